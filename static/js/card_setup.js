/* The billing page's card form on Stripe.js (only when a publishable key is configured): confirm
   a SetupIntent in the browser, then post its id to the portal, which attaches the card. */
(function () {
  "use strict";
  var form = document.getElementById("card-setup");
  if (!form || typeof Stripe === "undefined") {
    return;
  }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    var begun = await fetch(form.dataset.begin, {method: "POST", headers: {"X-CSRFToken": token}});
    var secret = (await begun.json()).client_secret;
    var result = await stripe.confirmCardSetup(secret, {payment_method: {card: card}});
    if (result.error) {
      document.getElementById("card-errors").textContent = result.error.message;
      return;
    }
    var done = document.getElementById("card-setup-done");
    done.elements.setup_intent.value = result.setupIntent.id;
    done.submit();
  });
})();
