"""Web forms: an embeddable form on the business's website that creates leads."""
