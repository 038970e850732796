// The moderators' web app: a little plain JavaScript on top of server-rendered pages (every form also
// works without it). The queue opens, decides and skips items without a full reload and has keyboard
// shortcuts; the policy editor previews as you type; some forms ask for confirmation first.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "X-Requested-With": "fetch" },
    });
  }

  function errorText(response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") === -1) {
      return Promise.resolve("Something went wrong (" + response.status + "). Reload the page.");
    }
    return response.json().then(function (body) {
      var fields = body.fields ? Object.keys(body.fields).map(function (k) { return body.fields[k]; }) : [];
      return body.message + (fields.length ? " (" + fields.join("; ") + ")" : "");
    });
  }

  // Forms that ask first (revoke a key, disable a user, activate a model).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // ---------------------------------------------------------------------------------------------
  // The queue

  var detail = document.getElementById("detail");
  if (detail) {
    initQueue(detail);
  }

  function initQueue(pane) {
    var status = document.getElementById("queue-status");
    var help = document.getElementById("keys-help");
    var busy = false;

    function say(text, isError) {
      status.textContent = text || "";
      status.classList.toggle("error", !!isError);
    }

    function currentId() {
      var article = pane.querySelector("#item-detail");
      return article ? article.getAttribute("data-item-id") : "";
    }

    function rows() {
      return Array.prototype.slice.call(document.querySelectorAll("#items .item"));
    }

    function rowFor(id) {
      return document.querySelector('#items .item[data-item-id="' + id + '"]');
    }

    function markActive(id) {
      rows().forEach(function (row) {
        row.classList.toggle("active", row.getAttribute("data-item-id") === String(id));
      });
      var row = rowFor(id);
      if (row) {
        row.scrollIntoView({ block: "nearest" });
      }
    }

    function filterFields(body) {
      var filters = document.querySelectorAll("#bulk-form > input[type=hidden]");
      Array.prototype.forEach.call(filters, function (input) {
        if (input.name !== "csrf_token" && !body.has(input.name)) {
          body.append(input.name, input.value);
        }
      });
      return body;
    }

    function showItem(html) {
      pane.innerHTML = html;
      var id = currentId();
      markActive(id);
      // Opening claims the item, which moves its version on: keep the bulk checkbox's version current.
      var article = pane.querySelector("#item-detail");
      var box = id && rowFor(id) ? rowFor(id).querySelector(".select") : null;
      if (box && article) {
        box.value = id + ":" + article.getAttribute("data-version");
      }
      var url = new URL(window.location.href);
      if (id) {
        url.searchParams.set("item", id);
      } else {
        url.searchParams.delete("item");
      }
      window.history.replaceState(null, "", url.toString());
      if (article) {
        article.focus({ preventScroll: true });
        revealComment(article);
      }
    }

    // The decision bar sticks to the top of the opened item: when the page was scrolled down the list (or, at
    // phone width, past the item), bring the item's top into view so the bar does not cover the comment.
    function revealComment(article) {
      pane.scrollTop = 0;
      var bar = article.querySelector(".decide");
      var text = article.querySelector(".comment-text");
      if (!bar || !text) {
        return;
      }
      var shown = text.getBoundingClientRect();
      if (shown.top < bar.getBoundingClientRect().bottom || shown.bottom > window.innerHeight) {
        article.scrollIntoView({ block: "start" });
      }
    }

    function openItem(id) {
      var row = rowFor(id);
      if (busy || !row) {
        return Promise.resolve();
      }
      busy = true;
      var body = filterFields(new FormData());
      var previous = currentId();
      if (previous && previous !== String(id)) {
        body.append("previous", previous);
      }
      return post(row.getAttribute("data-open-url"), body)
        .then(function (response) {
          if (!response.ok) {
            return errorText(response).then(function (text) { say(text, true); });
          }
          return response.text().then(function (html) {
            showItem(html);
            say("");
          });
        })
        .catch(function () { say("The server could not be reached.", true); })
        .finally(function () { busy = false; });
    }

    function markDone(id, message) {
      var row = rowFor(id);
      if (!row) {
        return;
      }
      row.classList.add("done");
      row.classList.remove("active");
      var box = row.querySelector(".select");
      if (box) {
        box.checked = false;
        box.disabled = true;
      }
      row.querySelector(".row-status").textContent = message || "done";
    }

    function submitDecision(form, submitter) {
      if (busy) {
        return;
      }
      busy = true;
      var body = new FormData(form, submitter);
      var url = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action");
      var decided = currentId();
      post(url, body)
        .then(function (response) {
          if (!response.ok) {
            return errorText(response).then(function (text) {
              say(text, true);
              if (response.status === 422) {
                var choice = document.getElementById("reason-choice");
                if (choice) {
                  choice.focus();
                }
              }
            });
          }
          var message = response.headers.get("X-Done-Message") || "Done.";
          var count = response.headers.get("X-Queue-Count");
          var counter = document.getElementById("queue-count");
          if (count && counter) {
            counter.textContent = count;
          }
          return response.text().then(function (html) {
            markDone(decided, message.replace(/ comment .*$/, "").toLowerCase());
            showItem(html);
            say(message);
          });
        })
        .catch(function () { say("The server could not be reached.", true); })
        .finally(function () { busy = false; });
    }

    pane.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.id !== "decide-form") {
        return;
      }
      event.preventDefault();
      submitDecision(form, event.submitter);
    });

    document.getElementById("items").addEventListener("click", function (event) {
      var link = event.target.closest(".item-link");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
        return;
      }
      event.preventDefault();
      openItem(link.closest(".item").getAttribute("data-item-id"));
    });

    var selectAll = document.getElementById("select-all");
    if (selectAll) {
      selectAll.addEventListener("change", function () {
        rows().forEach(function (row) {
          var box = row.querySelector(".select");
          if (box && !box.disabled) {
            box.checked = selectAll.checked;
          }
        });
      });
    }

    document.getElementById("keys-button").addEventListener("click", toggleHelp);

    function toggleHelp() {
      if (help.open) {
        help.close();
      } else {
        help.showModal();
      }
    }

    function move(step) {
      var open = rows().filter(function (row) { return !row.classList.contains("done"); });
      if (!open.length) {
        return;
      }
      var index = open.findIndex(function (row) { return row.getAttribute("data-item-id") === currentId(); });
      var target = index === -1 ? open[0] : open[index + step];
      if (target) {
        openItem(target.getAttribute("data-item-id"));
      }
    }

    function press(id) {
      var button = document.getElementById(id);
      if (button && !busy) {
        button.click();
      }
    }

    function reject() {
      var choice = document.getElementById("reason-choice");
      var note = document.getElementById("reason-text");
      if (!choice) {
        return;
      }
      if (choice.value || (note && note.value.trim())) {
        press("reject-button");
      } else {
        choice.focus();
        say("Choose a reason for rejecting, then press Enter.");
      }
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) {
        return;
      }
      var target = event.target;
      var typing = target.closest && target.closest(
        'input:not([type="checkbox"]):not([type="radio"]):not([type="submit"]), select, textarea, [contenteditable]'
      );
      if (typing) {
        // Enter in the reason fields rejects with that reason.
        if (event.key === "Enter" && (target.id === "reason-choice" || target.id === "reason-text")) {
          event.preventDefault();
          press("reject-button");
        } else if (event.key === "Escape") {
          target.blur();
        }
        return;
      }
      if (help.open && event.key !== "?") {
        return;
      }
      switch (event.key) {
        case "j": move(1); break;
        case "k": move(-1); break;
        case "a": press("approve-button"); break;
        case "r": reject(); break;
        case "s": press("skip-button"); break;
        case "x": {
          var row = rowFor(currentId());
          var box = row && row.querySelector(".select");
          if (box && !box.disabled) {
            box.checked = !box.checked;
          }
          break;
        }
        case "?": toggleHelp(); break;
        default: return;
      }
      event.preventDefault();
    });

    // Opening an item claims it: a moderator's queue claims the one the page opened with; an admin's claims
    // only what the admin opens.
    var first = pane.querySelector("#item-detail");
    var claimsOnLoad = pane.getAttribute("data-claim-on-load") === "yes";
    if (claimsOnLoad && first && first.getAttribute("data-item-id") && first.getAttribute("data-mine") !== "yes") {
      openItem(first.getAttribute("data-item-id"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The policy editor's live preview

  var policy = document.getElementById("policy-form");
  if (policy) {
    var target = document.getElementById("preview");
    var timer = null;
    var sequence = 0;
    var refresh = function () {
      var mine = ++sequence;
      target.setAttribute("aria-busy", "true");
      post(policy.getAttribute("data-preview-url"), new FormData(policy))
        .then(function (response) { return response.text(); })
        .then(function (html) {
          if (mine === sequence) {
            target.innerHTML = html;
            target.removeAttribute("aria-busy");
          }
        })
        .catch(function () { target.removeAttribute("aria-busy"); });
    };
    policy.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // The models page's retrain jobs: refreshed every few seconds while one is queued or running; when none is
  // any more, the versions (a new one, its metrics and comparison) and the retrain button are refreshed too.

  var jobs = document.getElementById("jobs");
  if (jobs) {
    var active = function () {
      return jobs.querySelector('tr[data-job-state="queued"], tr[data-job-state="running"]') !== null;
    };
    var refreshPage = function () {
      return fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) {
            return;
          }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          ["versions", "retrain-form"].forEach(function (id) {
            var now = document.getElementById(id);
            var next = fresh.getElementById(id);
            if (now && next) {
              now.replaceWith(document.importNode(next, true));
            }
          });
        });
    };
    var poll = function () {
      if (!active()) {
        return;
      }
      fetch(jobs.getAttribute("data-refresh-url"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null) {
            jobs.innerHTML = html;
            if (!active()) {
              return refreshPage();
            }
          }
        })
        .catch(function () { /* try again on the next tick */ })
        .finally(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 2000);
  }
})();
