// PostDesk postal app on the phone: installs the service worker, keeps the day's item pages,
// queues scans and delivery attempts made without a network in IndexedDB and sends them again,
// in order, when the network returns. Each action carries an id made here (a UUID), so the
// server applies it once however often it arrives. A refusal (the item moved on meanwhile) is
// shown to the employee and never retried silently. Also: the signature pad and camera scanning.
// No inline script anywhere (Content-Security-Policy); texts come from data-* attributes that
// the templates translate.
(function () {
  "use strict";

  var app = document.getElementById("postal-app");
  var DB_NAME = "postdesk-postal";
  var PAGES_CACHE = "postdesk-pages";

  function text(name, fallback) {
    return (app && app.getAttribute("data-text-" + name)) || fallback;
  }

  // --- logged out: nothing of the last user stays on the phone but unsent actions ------------
  if (document.body.hasAttribute("data-logged-out")) {
    if (window.caches) {
      caches.delete(PAGES_CACHE);
    }
    return;
  }
  if (!app) {
    return;
  }
  var user = app.getAttribute("data-user");

  // --- IndexedDB: the queue (in order) and the conflicts to show ------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
        db.createObjectStore("conflicts", { keyPath: "id" });
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function store(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result = work(tx.objectStore(name));
        tx.oncomplete = function () {
          resolve(result && "result" in result ? result.result : result);
        };
        tx.onerror = function () {
          reject(tx.error);
        };
      });
    });
  }

  function allOf(name) {
    return store(name, "readonly", function (s) {
      return s.getAll();
    }).then(function (rows) {
      return (rows || []).filter(function (row) {
        return row.user === user;
      });
    });
  }

  // --- what the employee sees: connection, waiting actions, refusals ------------------------
  var stateLabel = app.querySelector("[data-app-state]");
  var pendingLabel = app.querySelector("[data-app-pending]");
  var conflictList = app.querySelector("[data-app-conflicts]");
  var notice = app.querySelector("[data-app-notice]");

  function say(message, kind) {
    if (!notice) {
      return;
    }
    notice.textContent = message;
    notice.className = "alert alert-" + (kind || "info") + " py-2 mb-2";
    notice.hidden = !message;
  }

  function refresh() {
    var online = navigator.onLine;
    stateLabel.textContent = online ? text("online", "Online") : text("offline", "Offline");
    app.classList.toggle("text-bg-warning", !online);
    app.classList.toggle("text-bg-light", online);
    var icon = app.querySelector("[data-app-icon]");
    icon.className = online ? "bi bi-wifi" : "bi bi-wifi-off";
    return Promise.all([allOf("queue"), allOf("conflicts")]).then(function (found) {
      var waiting = found[0].length;
      pendingLabel.textContent = String(waiting);
      pendingLabel.setAttribute("data-count", waiting);
      conflictList.replaceChildren();
      found[1].forEach(function (conflict) {
        var box = document.createElement("div");
        box.className = "alert alert-danger py-2 mb-2";
        box.setAttribute("role", "alert");
        box.setAttribute("data-testid", "app-conflict");
        var strong = document.createElement("strong");
        strong.textContent = conflict.label + ": ";
        box.appendChild(strong);
        box.appendChild(document.createTextNode(conflict.messages.join(" ")));
        var dismiss = document.createElement("button");
        dismiss.type = "button";
        dismiss.className = "btn btn-sm btn-outline-danger ms-2";
        dismiss.textContent = text("dismiss", "Seen");
        dismiss.addEventListener("click", function () {
          store("conflicts", "readwrite", function (s) {
            s.delete(conflict.id);
          }).then(refresh);
        });
        box.appendChild(dismiss);
        conflictList.appendChild(box);
      });
      return waiting;
    });
  }

  // --- sending, in order; stop at the first one the network cannot carry ---------------------
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  var sending = null;

  function sendOne(entry) {
    var body = new FormData();
    entry.fields.forEach(function (pair) {
      if (pair[2]) {
        body.append(pair[0], pair[1], pair[2]);
      } else {
        body.append(pair[0], pair[1]);
      }
    });
    return fetch(entry.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    });
  }

  function flush() {
    if (sending) {
      return sending;
    }
    sending = (async function () {
      var sent = 0;
      var entries = (await allOf("queue")).sort(function (a, b) {
        return a.seq - b.seq;
      });
      for (var i = 0; i < entries.length; i += 1) {
        var entry = entries[i];
        var response;
        try {
          response = await sendOne(entry);
        } catch (networkDown) {
          break; // still offline: keep this one and everything after it, in order
        }
        if (response.status >= 500 || response.status === 429) {
          break; // the server cannot take it now; try again later
        }
        var answer = null;
        try {
          answer = await response.json();
        } catch (notJson) {
          answer = null;
        }
        if (!answer) {
          // The login page instead of JSON: the session ended. Keep the queue for after login.
          say(text("login", "Log in again to send the waiting actions."), "warning");
          break;
        }
        if (!response.ok) {
          var messages = answer.messages || [text("refused", "Refused by the server.")];
          await store("conflicts", "readwrite", function (s) {
            s.put({ id: entry.id, user: user, label: entry.label, messages: messages });
          });
        } else {
          sent += 1;
        }
        await store("queue", "readwrite", function (s) {
          s.delete(entry.seq);
        });
      }
      return sent;
    })().finally(function () {
      sending = null;
      refresh();
    });
    return sending;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    });
    return [hex.slice(0, 4), hex.slice(4, 6), hex.slice(6, 8), hex.slice(8, 10), hex.slice(10)]
      .map(function (part) {
        return part.join("");
      })
      .join("-");
  }

  // --- forms marked data-offline-action are queued, then sent when possible ------------------
  document.addEventListener("submit", async function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-offline-action") || event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter;
    var data = new FormData(form);
    if (submitter && submitter.name) {
      data.set(submitter.name, submitter.value);
    }
    data.delete("csrfmiddlewaretoken");
    var pad = form.querySelector("canvas[data-signature]");
    if (pad && pad.getAttribute("data-signed") === "1") {
      var blob = await new Promise(function (resolve) {
        pad.toBlob(resolve, "image/png");
      });
      data.set("signature", blob, "signature.png");
    }
    var photo = data.get("photo");
    if (photo && typeof photo === "object" && !photo.size) {
      data.delete("photo"); // no picture taken
    }
    var id = uuid();
    data.set("client_id", id);
    data.set("at", new Date().toISOString());
    var fields = [];
    data.forEach(function (value, key) {
      fields.push(typeof value === "object" ? [key, value, value.name || key] : [key, value]);
    });
    var label = form.getAttribute("data-offline-label") || form.action;
    if (submitter && submitter.getAttribute("data-label")) {
      label += " – " + submitter.getAttribute("data-label");
    }
    await store("queue", "readwrite", function (s) {
      s.add({ id: id, user: user, url: form.action, label: label, fields: fields, created: Date.now() });
    });
    Array.prototype.forEach.call(form.querySelectorAll("button"), function (button) {
      button.disabled = true;
    });
    await refresh();
    var before = (await allOf("queue")).length;
    await flush();
    var after = (await allOf("queue")).length;
    if (after < before && navigator.onLine) {
      window.location.reload(); // sent: show the item as the server now has it
    } else {
      say(text("queued", "Saved on this phone: it will be sent when the network returns."), "warning");
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (button) {
        button.disabled = false;
      });
      form.reset();
      if (pad) {
        pad.dispatchEvent(new Event("clear"));
      }
    }
  });

  window.addEventListener("online", function () {
    refresh();
    flush();
  });
  window.addEventListener("offline", refresh);
  setInterval(function () {
    if (navigator.onLine) {
      flush();
    }
  }, 30000);

  // --- the service worker, and the day's pages kept on the phone ------------------------------
  function keepTodaysPages() {
    var list = app.getAttribute("data-pages");
    if (!list || !navigator.onLine || !window.caches) {
      return Promise.resolve();
    }
    return fetch(list, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { pages: [] };
      })
      .then(async function (answer) {
        var cache = await caches.open(PAGES_CACHE);
        if (localStorage.getItem("postdesk-pages-user") !== user) {
          await caches.delete(PAGES_CACHE);
          cache = await caches.open(PAGES_CACHE);
          localStorage.setItem("postdesk-pages-user", user);
        }
        for (var i = 0; i < answer.pages.length; i += 1) {
          try {
            var response = await fetch(answer.pages[i], { credentials: "same-origin" });
            if (response.ok && !response.redirected) {
              await cache.put(answer.pages[i], response);
            }
          } catch (offlineNow) {
            break;
          }
        }
        app.setAttribute("data-pages-kept", String(answer.pages.length));
        var kept = app.querySelector("[data-app-kept]");
        kept.querySelector("[data-app-kept-count]").textContent = String(answer.pages.length - 1);
        kept.hidden = false;
      })
      .catch(function () {
        return null;
      });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker
      // The worker's folder is its scope: the postal screens, nothing else of the site.
      .register(app.getAttribute("data-sw"), {
        scope: new URL("./", new URL(app.getAttribute("data-sw"), window.location.href)).pathname,
      })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(keepTodaysPages)
      .then(function () {
        app.setAttribute("data-ready", "1");
      })
      .catch(function () {
        app.setAttribute("data-ready", "0");
      });
  }
  refresh().then(function (waiting) {
    if (waiting && navigator.onLine) {
      flush();
    }
  });

  // --- signature pad ----------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-signature]"), function (pad) {
    var context = pad.getContext("2d");
    var drawing = false;

    function fit() {
      var ratio = window.devicePixelRatio || 1;
      pad.width = pad.clientWidth * ratio;
      pad.height = pad.clientHeight * ratio;
      context.scale(ratio, ratio);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.strokeStyle = "#000";
      pad.setAttribute("data-signed", "0");
    }

    function point(event) {
      var box = pad.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    pad.addEventListener("pointerdown", function (event) {
      drawing = true;
      pad.setPointerCapture(event.pointerId);
      var p = point(event);
      context.beginPath();
      context.moveTo(p.x, p.y);
      context.lineTo(p.x + 0.1, p.y + 0.1);
      context.stroke();
      pad.setAttribute("data-signed", "1");
    });
    pad.addEventListener("pointermove", function (event) {
      if (!drawing) {
        return;
      }
      var p = point(event);
      context.lineTo(p.x, p.y);
      context.stroke();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      pad.addEventListener(name, function () {
        drawing = false;
      });
    });
    pad.addEventListener("clear", fit);
    var clear = pad.parentElement.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", fit);
    }
    fit();
  });

  // --- camera scanning: BarcodeDetector, with the vendored polyfill where it is missing -------
  var cameraButton = document.querySelector("[data-camera-scan]");
  if (cameraButton) {
    var S10 = /^[A-Z]{2}\d{9}[A-Z]{2}$/;

    function detectorReady() {
      if ("BarcodeDetector" in window) {
        return Promise.resolve();
      }
      return new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = cameraButton.getAttribute("data-polyfill");
        script.onload = function () {
          var wasm = cameraButton.getAttribute("data-wasm");
          window.BarcodeDetectionAPI.prepareZXingModule({
            overrides: {
              locateFile: function (path, prefix) {
                return path.endsWith(".wasm") ? wasm : prefix + path;
              },
            },
          });
          resolve();
        };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }

    // What a scanned value means here: an S10 code, or Form 01's QR (a lookup address whose
    // "code" parameter is the dossier code).
    function codeFrom(value) {
      var raw = (value || "").trim();
      if (S10.test(raw.toUpperCase())) {
        return raw.toUpperCase();
      }
      try {
        var url = new URL(raw, window.location.origin);
        return url.searchParams.get("code") || raw;
      } catch (notAUrl) {
        return raw;
      }
    }

    cameraButton.addEventListener("click", async function () {
      var panel = document.getElementById(cameraButton.getAttribute("aria-controls"));
      var video = panel.querySelector("video");
      var status = panel.querySelector("[data-camera-status]");
      var input = document.getElementById(cameraButton.getAttribute("data-input"));
      panel.hidden = false;
      try {
        await detectorReady();
        var detector = new window.BarcodeDetector({ formats: ["code_128", "qr_code"] });
        var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        video.srcObject = stream;
        await video.play();
        status.textContent = text("aim", "Point the camera at the barcode.");
        var stop = function () {
          stream.getTracks().forEach(function (track) {
            track.stop();
          });
          panel.hidden = true;
        };
        panel.querySelector("[data-camera-close]").onclick = stop;
        var look = async function () {
          if (panel.hidden) {
            return;
          }
          var found = [];
          try {
            found = await detector.detect(video);
          } catch (notYet) {
            found = [];
          }
          if (found.length) {
            stop();
            input.value = codeFrom(found[0].rawValue);
            input.form.requestSubmit();
            return;
          }
          setTimeout(look, 250);
        };
        look();
      } catch (error) {
        status.textContent = text("nocamera", "The camera cannot be used here: type the code instead.");
      }
    });
  }
})();
