// Swagger UI's OAuth2 redirect page (as FastAPI serves it), from a file rather than an inline
// script: hands the authorization server's answer back to the Swagger UI window that opened it.
(function () {
  "use strict";

  function parameters() {
    var query = /code|token|error/.test(window.location.hash)
      ? window.location.hash.substring(1).replace("?", "&")
      : window.location.search.substring(1);
    var found = {};
    new URLSearchParams(query).forEach(function (value, key) {
      found[key] = value;
    });
    return found;
  }

  function run() {
    var oauth2 = window.opener.swaggerUIRedirectOauth2;
    var sentState = oauth2.state;
    var redirectUrl = oauth2.redirectUrl;
    var qp = parameters();
    var isValid = qp.state === sentState;
    var flow = oauth2.auth.schema.get("flow");
    var codeFlow =
      flow === "accessCode" || flow === "authorizationCode" || flow === "authorization_code";

    if (codeFlow && !oauth2.auth.code) {
      if (!isValid) {
        oauth2.errCb({
          authId: oauth2.auth.name,
          source: "auth",
          level: "warning",
          message:
            "Authorization may be unsafe, passed state was changed in server. " +
            "The passed state wasn't returned from auth server.",
        });
      }
      if (qp.code) {
        delete oauth2.state;
        oauth2.auth.code = qp.code;
        oauth2.callback({ auth: oauth2.auth, redirectUrl: redirectUrl });
      } else {
        var message;
        if (qp.error) {
          message =
            "[" + qp.error + "]: " +
            (qp.error_description
              ? qp.error_description + ". "
              : "no accessCode received from the server. ") +
            (qp.error_uri ? "More info: " + qp.error_uri : "");
        }
        oauth2.errCb({
          authId: oauth2.auth.name,
          source: "auth",
          level: "error",
          message: message || "[Authorization failed]: no accessCode received from the server.",
        });
      }
    } else {
      oauth2.callback({ auth: oauth2.auth, token: qp, isValid: isValid, redirectUrl: redirectUrl });
    }
    window.close();
  }

  if (document.readyState !== "loading") {
    run();
  } else {
    document.addEventListener("DOMContentLoaded", run);
  }
})();
