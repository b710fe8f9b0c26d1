/* keepscore web form embed.
 *
 *   <script src="https://crm.example.com/static/keepscore/embed.js"
 *           data-keepscore-form="FORM_KEY" async></script>
 *
 * Puts the form in an iframe right after the script tag and passes it the page's UTM
 * parameters, the page's referrer (document.referrer) and its address, so the lead records
 * where it came from. Optional: data-height="600px", data-title="Contact us". After a
 * submission, a form with a thank-you page takes this window there.
 */
(function () {
  "use strict";
  var UTM = ["utm_source", "utm_medium", "utm_campaign"];

  function embed(script) {
    if (script.getAttribute("data-keepscore-done")) return;
    script.setAttribute("data-keepscore-done", "1");
    var key = script.getAttribute("data-keepscore-form");
    if (!key) return;
    var url = new URL("/f/" + encodeURIComponent(key) + "/", script.src);
    var params = new URLSearchParams(window.location.search);
    UTM.forEach(function (name) {
      var value = params.get(name);
      if (value) url.searchParams.set(name, value);
    });
    if (document.referrer) url.searchParams.set("referrer", document.referrer);
    url.searchParams.set("page_url", window.location.href);
    var frame = document.createElement("iframe");
    frame.src = url.toString();
    frame.title = script.getAttribute("data-title") || "Contact form";
    frame.style.width = "100%";
    frame.style.minHeight = script.getAttribute("data-height") || "520px";
    frame.style.border = "0";
    script.parentNode.insertBefore(frame, script.nextSibling);
    // the form's thanks page asks for the business's thank-you page in the whole window
    window.addEventListener("message", function (event) {
      if (event.source !== frame.contentWindow || event.origin !== url.origin) return;
      var data = event.data;
      if (data && data.keepscore === "thank-you" && /^https?:/i.test(String(data.url))) {
        window.location.href = data.url;
      }
    });
  }

  var scripts = document.querySelectorAll("script[data-keepscore-form]");
  for (var i = 0; i < scripts.length; i++) embed(scripts[i]);
})();
