/* keepscore web form: after a submission inside an iframe, go to the business's thank-you
 * page in the whole window. embed.js (on the website's page) does the navigation when asked;
 * a form opened on its own goes there at once. The "Continue" link is the fallback. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-url");
  if (!url || !/^https?:/i.test(url)) return;
  if (window.top === window.self) {
    window.location.replace(url);
  } else {
    window.parent.postMessage({ keepscore: "thank-you", url: url }, "*");
  }
})();
