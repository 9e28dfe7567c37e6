// Passkeys, for forms marked data-passkey ("create" on the account page, "get" at the second step and for
// step-up). Without passkeys in the browser, or without JavaScript, those forms stay hidden and the
// authenticator app does everything. With them: on submit, fetch the options (data-options), let the browser
// make or use the passkey, put its answer (JSON) in the hidden field and submit the form as usual. If the
// options cannot be had (the server wants a fresh second factor first, say), the form goes without an
// answer and the server says what to do.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function bytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); }).buffer;
  }

  function text(buffer) {
    if (!buffer) { return null; }
    var binary = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, {id: bytes(d.id)}); });
  }

  function publicKey(kind, options) {
    var key = Object.assign({}, options, {challenge: bytes(options.challenge)});
    if (kind === "create") {
      key.user = Object.assign({}, options.user, {id: bytes(options.user.id)});
      key.excludeCredentials = descriptors(options.excludeCredentials);
    } else {
      key.allowCredentials = descriptors(options.allowCredentials);
    }
    return key;
  }

  function answer(credential) {
    var r = credential.response;
    var response = {clientDataJSON: text(r.clientDataJSON)};
    if (r.attestationObject) {
      response.attestationObject = text(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = text(r.authenticatorData);
      response.signature = text(r.signature);
      response.userHandle = text(r.userHandle);
    }
    return JSON.stringify({id: credential.id, rawId: text(credential.rawId), type: credential.type,
                           response: response, clientExtensionResults: credential.getClientExtensionResults()});
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var kind = form.dataset.passkey;
    var status = form.querySelector("[data-passkey-status]");
    var field = form.querySelector("[data-passkey-credential]");
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      if (form.dataset.answered) { return; }
      event.preventDefault();
      status.textContent = "Waiting for your passkey…";
      var token = form.querySelector("input[name$='csrf_token']").value;
      fetch(form.dataset.options, {method: "POST", credentials: "same-origin",
                                   headers: {"X-CSRFToken": token, "Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (options) {
          if (!options) { return null; }
          var key = publicKey(kind, options);
          return kind === "create" ? navigator.credentials.create({publicKey: key})
                                   : navigator.credentials.get({publicKey: key});
        })
        .then(function (credential) {
          if (credential) { field.value = answer(credential); }
          form.dataset.answered = "yes";
          form.submit();
        })
        .catch(function () {
          status.textContent = "No passkey was used. Try again, or use your authenticator app.";
        });
    });
  });
})();
