// PostDesk postal app: the service worker. Served by postal.app_views.service_worker, which
// writes VERSION, APP_SHELL, OFFLINE_PAGE and STATIC_URL above this line.
//
// Hand-written rather than Workbox: the app needs three small rules (files of the app kept at
// install, pages network-first with the last copy kept, a fallback page), which fit in one
// screen with no build step and no extra vendored runtime; posts are never touched here, the
// page queues them itself (postal-app.js), because Background Sync does not exist on iPhones.
/* global VERSION, APP_SHELL, OFFLINE_PAGE, STATIC_URL */
"use strict";

const SHELL_CACHE = "postdesk-shell-" + VERSION;
// Pages carry the employee's items: one cache, emptied at logout and when another user logs in.
const PAGES_CACHE = "postdesk-pages";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then(function (cache) {
        return cache.addAll(APP_SHELL);
      })
      .then(function () {
        return self.skipWaiting();
      })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (keys) {
        return Promise.all(
          keys
            .filter(function (key) {
              return key.indexOf("postdesk-shell-") === 0 && key !== SHELL_CACHE;
            })
            .map(function (key) {
              return caches.delete(key);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

async function networkFirst(request) {
  const pages = await caches.open(PAGES_CACHE);
  try {
    const response = await fetch(request);
    // A redirect (to the login page) or an error page is not worth keeping.
    if (response.ok && !response.redirected && response.type === "basic") {
      await pages.put(request, response.clone());
    }
    return response;
  } catch (offline) {
    const kept = await pages.match(request, { ignoreVary: true });
    if (kept) {
      return kept;
    }
    const fallback = await caches.match(OFFLINE_PAGE);
    return fallback || Response.error();
  }
}

async function cacheFirst(request) {
  const kept = await caches.match(request, { ignoreVary: true });
  if (kept) {
    return kept;
  }
  const response = await fetch(request);
  if (response.ok) {
    const shell = await caches.open(SHELL_CACHE);
    await shell.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") {
    return; // the page sends or queues its own posts
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.indexOf(STATIC_URL) === 0) {
    event.respondWith(cacheFirst(request));
  }
});
