// Set by a script file, not inline, so the Content-Security-Policy needs no 'unsafe-inline':
// GOV.UK Frontend styles its enhanced components only once this class is on <body>.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
