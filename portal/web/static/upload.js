// The upload page, improved: the file goes in resumable pieces (the tus protocol, with
// tus-js-client from /assets/tus.min.js) to the page's data-resumable-url, with a progress
// bar. A dropped connection is retried (asking the server how far it got), and so is an
// upload interrupted by closing or reloading the page: its address is kept in localStorage
// under the page, the file's name, size and last change, so choosing the same file again
// carries on where it stopped. Without JavaScript, or without what this needs, the page's
// plain form posts the file in one go.
(function () {
  "use strict";

  var form = document.querySelector("form[data-resumable-url]");
  var tus = window.tus;
  if (!form || !tus || !tus.isSupported || !tus.canStoreURLs || !window.fetch) {
    return;
  }

  var CHUNK_BYTES = 8 * 1024 * 1024;
  var RETRY_DELAYS = [0, 1000, 3000, 5000];
  var MAX_RESTARTS = 8;
  var endpoint = form.getAttribute("data-resumable-url");
  var childId = form.getAttribute("data-child-id");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var fileInput = form.querySelector("input[type=file]");
  var submit = form.querySelector("button[type=submit]");
  var progress = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-progress-bar");
  var progressText = document.getElementById("upload-progress-text");
  var announcer = document.getElementById("upload-announcer");
  var notice = document.getElementById("upload-resume-notice");
  var title = document.title.replace(/^Error: /, "");
  var current = null;

  function fingerprintOf(file) {
    return ["jtai", endpoint, file.name, file.size, file.lastModified].join("::");
  }

  // -- what the page shows ----------------------------------------------------------------

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function announce(text) {
    announcer.textContent = text;
  }

  function showProgress(sent, total) {
    var percent = total ? Math.floor((sent / total) * 100) : 0;
    bar.value = percent;
    bar.textContent = percent + "%";
    progressText.textContent =
      percent + "% uploaded (" + megabytes(sent) + " of " + megabytes(total) + ")";
    // Said aloud at each quarter only, so a screen reader is not flooded.
    var quarter = percent - (percent % 25);
    if (current && quarter > current.announced) {
      current.announced = quarter;
      announce(quarter + "% uploaded");
    }
  }

  function status(text) {
    progressText.textContent = text;
    announce(text);
  }

  function busy(on) {
    submit.disabled = on;
    fileInput.disabled = on;
    progress.hidden = !on;
    var cancel = document.getElementById("upload-cancel");
    if (on && !cancel) {
      cancel = document.createElement("button");
      cancel.type = "button";
      cancel.id = "upload-cancel";
      cancel.className = "govuk-button govuk-button--secondary";
      cancel.textContent = "Cancel upload";
      cancel.addEventListener("click", cancelUpload);
      submit.parentNode.appendChild(cancel);
    } else if (!on && cancel) {
      cancel.parentNode.removeChild(cancel);
    }
  }

  function clearErrors() {
    var summaries = document.querySelectorAll(".govuk-error-summary");
    Array.prototype.forEach.call(summaries, function (summary) {
      var row = summary.closest(".govuk-grid-row") || summary;
      row.parentNode.removeChild(row);
    });
    Array.prototype.forEach.call(form.querySelectorAll(".govuk-error-message"), function (p) {
      p.parentNode.removeChild(p);
    });
    Array.prototype.forEach.call(form.querySelectorAll(".govuk-form-group--error"), function (g) {
      g.classList.remove("govuk-form-group--error");
    });
    Array.prototype.forEach.call(
      form.querySelectorAll(".govuk-input--error, .govuk-file-upload--error"),
      function (input) {
        input.classList.remove("govuk-input--error", "govuk-file-upload--error");
      }
    );
    Array.prototype.forEach.call(form.querySelectorAll("[aria-describedby]"), function (el) {
      var described = el.getAttribute("aria-describedby").split(" ");
      el.setAttribute(
        "aria-describedby",
        described.filter(function (id) { return !/-error$/.test(id); }).join(" ")
      );
    });
    document.title = title;
  }

  function fieldError(field, message) {
    var input = document.getElementById(field) || fileInput;
    var group = input.closest("fieldset") ? input.closest("fieldset").parentNode : input.closest(".govuk-form-group");
    var errorId = (field === "file" ? "file" : "document-date") + "-error";
    if (!document.getElementById(errorId)) {
      var p = document.createElement("p");
      p.id = errorId;
      p.className = "govuk-error-message";
      var hidden = document.createElement("span");
      hidden.className = "govuk-visually-hidden";
      hidden.textContent = "Error:";
      p.appendChild(hidden);
      p.appendChild(document.createTextNode(" " + message));
      var before = field === "file" ? fileInput : group.querySelector(".govuk-date-input");
      before.parentNode.insertBefore(p, before);
    }
    group.classList.add("govuk-form-group--error");
    if (field === "file") {
      fileInput.classList.add("govuk-file-upload--error");
      fileInput.setAttribute("aria-describedby", "file-hint " + errorId);
    } else {
      var fieldset = group.querySelector("fieldset");
      fieldset.setAttribute("aria-describedby", "document-date-hint " + errorId);
      Array.prototype.forEach.call(group.querySelectorAll(".govuk-input"), function (el) {
        el.classList.add("govuk-input--error");
      });
    }
  }

  function showErrors(errors) {
    clearErrors();
    var row = document.createElement("div");
    row.className = "govuk-grid-row";
    var column = document.createElement("div");
    column.className = "govuk-grid-column-two-thirds";
    var summary = document.createElement("div");
    summary.className = "govuk-error-summary";
    summary.tabIndex = -1;
    var alert = document.createElement("div");
    alert.setAttribute("role", "alert");
    var heading = document.createElement("h2");
    heading.className = "govuk-error-summary__title";
    heading.textContent = "There is a problem";
    var body = document.createElement("div");
    body.className = "govuk-error-summary__body";
    var list = document.createElement("ul");
    list.className = "govuk-list govuk-error-summary__list";
    errors.forEach(function (error) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + error.field;
      link.textContent = error.message;
      item.appendChild(link);
      list.appendChild(item);
      fieldError(error.field, error.message);
    });
    body.appendChild(list);
    alert.appendChild(heading);
    alert.appendChild(body);
    summary.appendChild(alert);
    column.appendChild(summary);
    row.appendChild(column);
    var main = document.getElementById("main-content");
    main.insertBefore(row, main.firstChild);
    document.title = "Error: " + title;
    summary.focus();
  }

  // -- the upload -------------------------------------------------------------------------

  function responseStatus(error) {
    return error && error.originalResponse ? error.originalResponse.getStatus() : 0;
  }

  function problemOf(error) {
    try {
      return JSON.parse(error.originalResponse.getBody());
    } catch (e) {
      return null;
    }
  }

  // Worth trying again: no answer (the network), the server's trouble, a busy upload, too
  // many requests, or an offset that moved (tus-js-client asks for it again).
  function retryable(error) {
    var code = responseStatus(error);
    if (code === 0 || code >= 500 || code === 423 || code === 429) {
      return true;
    }
    var problem = code === 409 ? problemOf(error) : null;
    return Boolean(problem && problem.code === "offset_mismatch");
  }

  function metadataOf(file) {
    var values = { filename: file.name, filetype: file.type || "" };
    ["day", "month", "year"].forEach(function (part) {
      var input = form.querySelector("[name=document-date-" + part + "]");
      if (input) {
        values["document-date-" + part] = input.value.trim();
      }
    });
    if (childId) {
      values.child_id = childId;
    }
    var health = form.querySelector("input[name=health_information]");
    if (health && health.checked) {
      values.health_information = "true";
    }
    return values;
  }

  function start(file) {
    clearErrors();
    var upload = new tus.Upload(file, {
      endpoint: endpoint,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS,
      metadata: metadataOf(file),
      headers: { "X-CSRF-Token": csrf },
      fingerprint: function (f) {
        return Promise.resolve(fingerprintOf(f));
      },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onShouldRetry: function (error) {
        var again = retryable(error) && navigator.onLine !== false;
        if (again && responseStatus(error) !== 409) {
          status("The upload was interrupted. Trying again.");
        }
        return again;
      },
      onProgress: showProgress,
      onChunkComplete: function () {
        if (current) {
          current.restarts = 0; // bytes got through: a later interruption starts afresh
        }
      },
      onSuccess: function (payload) {
        finished(upload, payload.lastResponse);
      },
      onError: function (error) {
        failed(upload, error);
      },
    });
    current = { upload: upload, file: file, announced: 0, restarts: 0, timer: null };
    busy(true);
    bar.value = 0;
    status("Starting the upload of " + file.name);
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
        status("Carrying on with the upload of " + file.name + " from where it stopped");
      }
      upload.start();
    });
  }

  // Start again (tus-js-client first asks the server for the offset) when the browser is
  // back online or after `delay`, whichever comes first; offline, keep waiting.
  function restartLater(upload, delay) {
    var done = false;
    function stillCurrent() {
      return current && current.upload === upload;
    }
    function go() {
      if (done) {
        return;
      }
      done = true;
      window.removeEventListener("online", go);
      if (stillCurrent()) {
        clearTimeout(current.timer);
        status("Carrying on with the upload");
        upload.start();
      }
    }
    window.addEventListener("online", go);
    current.timer = setTimeout(function () {
      if (navigator.onLine !== false) {
        go();
        return;
      }
      done = true;
      window.removeEventListener("online", go);
      if (stillCurrent()) {
        restartLater(upload, delay);
      }
    }, delay);
  }

  function failed(upload, error) {
    if (!current || current.upload !== upload) {
      return;
    }
    if (retryable(error)) {
      if (navigator.onLine === false) {
        status("The connection has been lost. The upload will carry on when it is back.");
        restartLater(upload, 5000);
        return;
      }
      if (current.restarts < MAX_RESTARTS) {
        current.restarts += 1;
        status("The upload was interrupted. Trying again.");
        restartLater(upload, Math.min(30000, 1000 * Math.pow(2, current.restarts)));
        return;
      }
    }
    var problem = problemOf(error);
    var errors = problem && Array.isArray(problem.errors) && problem.errors.length
      ? problem.errors.filter(function (e) { return e.field && e.message; })
      : [];
    if (!errors.length) {
      errors = [{
        field: "file",
        message: problem && problem.detail
          ? problem.detail
          : "The file could not be uploaded. Check your connection, then select Upload file " +
            "again: the upload will carry on from where it stopped",
      }];
    }
    if (!retryable(error)) {
      // Refused for good: forget it here (and on the server, if it is still there).
      upload.abort(true).catch(function () {});
    }
    current = null;
    busy(false);
    showErrors(errors);
  }

  function goTo(documentId) {
    status("Upload complete. Opening the file's status page.");
    window.location.assign("/documents/" + encodeURIComponent(documentId));
  }

  function finished(upload, lastResponse) {
    if (!current || current.upload !== upload) {
      return;
    }
    showProgress(current.file.size, current.file.size);
    var documentId = lastResponse && lastResponse.getHeader("JTAI-Document-Id");
    if (documentId) {
      goTo(documentId);
      return;
    }
    // Every byte arrived but the last answer was lost before the document was made:
    // a PATCH of nothing at the end asks the server to finish.
    fetch(upload.url, {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": String(current.file.size),
        "Content-Type": "application/offset+octet-stream",
        "X-CSRF-Token": csrf,
      },
    }).then(function (response) {
      var id = response.headers.get("JTAI-Document-Id");
      if (response.status === 204 && id) {
        goTo(id);
        return;
      }
      return response.text().then(function (text) {
        failed(upload, {
          originalResponse: {
            getStatus: function () { return response.status; },
            getBody: function () { return text; },
          },
        });
      });
    }, function () {
      failed(upload, { originalResponse: null });
    });
  }

  function cancelUpload() {
    if (!current) {
      return;
    }
    var upload = current.upload;
    clearTimeout(current.timer);
    current = null;
    upload.abort(true).catch(function () {});
    busy(false);
    announce("Upload cancelled");
    fileInput.focus();
  }

  form.addEventListener("submit", function (event) {
    if (current) {
      event.preventDefault();
      return;
    }
    var file = fileInput.files && fileInput.files[0];
    if (!file) {
      return; // the server says what to do, as without JavaScript
    }
    event.preventDefault();
    start(file);
  });

  // An upload of this page that stopped part way (the page was closed or reloaded).
  tus.defaultOptions.urlStorage.findAllUploads().then(function (uploads) {
    var prefix = "tus::jtai::" + endpoint + "::";
    var unfinished = uploads.filter(function (u) {
      return u.urlStorageKey && u.urlStorageKey.indexOf(prefix) === 0;
    });
    if (!unfinished.length || !notice) {
      return;
    }
    var name = (unfinished[0].metadata && unfinished[0].metadata.filename) || "a file";
    notice.textContent =
      "The upload of " + name + " stopped before it finished. Select the same file and " +
      "upload it: it will carry on from where it stopped.";
    notice.hidden = false;
  });
})();
