// The chatstate page: a client of the agent-chat HTTP API (docs/chat-api.md), plain browser JS.
// window.chatstate is what other tab scripts use: api(method, path, body, {local}), showError(err), onTab(name, fn),
// showTab(name), run(what, asyncFn) (status line + error box around one action).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const MAX_MESSAGE = 4000; // the API's limit on one message (characters)
  const PAGE = 20; // messages per history page
  const tabHandlers = {};

  // --- where requests go ---------------------------------------------------------------------------------------
  let token = ""; // a pasted bearer token lives only in this variable: never in storage, cookies or the URL

  function target() {
    return $("target-remote").checked ? "remote" : "local";
  }

  function baseUrl() {
    if (target() === "local") return "";
    return $("api-url").value.trim().replace(/\/+$/, "");
  }

  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  // One API call; resolves to the parsed JSON body (or null), rejects with an ApiError that says what the API said.
  // options.local: a /_local/... endpoint of the server that serves this page, whatever API is chosen (no identity).
  async function api(method, path, body, options = {}) {
    const local = Boolean(options.local);
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (local) {
      // the page's own server: no actor header, no pasted token
    } else if (target() === "local") {
      const actor = $("actor").value.trim();
      if (actor) headers["X-Local-Actor"] = actor;
    } else {
      if (!baseUrl()) throw new ApiError(0, "no_url", "enter the deployed API's URL first");
      if (token) headers.authorization = `Bearer ${token}`;
    }
    let response;
    try {
      response = await fetch((local ? "" : baseUrl()) + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (err) {
      const hint = !local && target() === "remote" ? " (is the URL right, and does the API's CorsAllowedOrigin allow this page?)" : "";
      throw new ApiError(0, "network", `${err.message}${hint}`);
    }
    const text = await response.text();
    let payload = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = { message: text };
    }
    if (!response.ok) {
      const err = (payload && payload.error) || {};
      const code = err.code || (payload && payload.message) || response.statusText;
      const message = err.message || (payload && payload.message) || text || response.statusText;
      throw new ApiError(response.status, code, message, response.headers.get("retry-after"));
    }
    return payload;
  }

  // --- feedback ---------------------------------------------------------------------------------------------------
  function showError(err) {
    const box = $("error");
    if (!err) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    if (err instanceof ApiError && err.status) {
      const retry = err.retryAfter ? ` (retry after ${err.retryAfter} s)` : "";
      box.textContent = `${err.status} ${err.code}: ${err.message}${retry}`;
    } else {
      box.textContent = String(err.message || err);
    }
    box.hidden = false;
  }

  function status(text) {
    $("status").textContent = text;
  }

  async function run(what, fn) {
    showError(null);
    status(`${what}…`);
    const started = performance.now();
    try {
      await fn();
      status(`${what}: done in ${Math.round(performance.now() - started)} ms`);
    } catch (err) {
      showError(err);
      status(`${what}: failed`);
    }
  }

  // --- session panel ----------------------------------------------------------------------------------------------
  let session = null; // the last GET /sessions/{id} (or the POST /sessions answer)
  let olderCursor = null;

  function setSession(next) {
    session = next;
    const open = Boolean(session);
    $("session-id").textContent = open ? session.session_id : "–";
    $("message-count").textContent = open && session.message_count !== undefined ? String(session.message_count) : "–";
    $("session-updated").textContent = open && session.updated_at ? new Date(session.updated_at).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }) : "–";
    $("session-state").textContent = open && session.state ? JSON.stringify(session.state, null, 2) : "–";
    for (const id of ["compose", "send", "refresh", "delete-session"]) $(id).disabled = !open;
    countChars(); // Send also needs a message that fits
    if (!open) showEmpty();
    $("compose").placeholder = open ? "Type a message (Enter sends, Shift+Enter for a new line)" : "Start or resume a session, then type a message";
    if (open) $("resume-id").value = session.session_id;
    tick();
  }

  function tick() {
    const ttl = $("ttl");
    if (!session || !session.expires_at) {
      ttl.textContent = "–";
      ttl.classList.remove("soon");
      return;
    }
    const left = Math.round((Date.parse(session.expires_at) - Date.now()) / 1000);
    ttl.textContent = left > 0 ? formatSeconds(left) : "expired";
    ttl.classList.toggle("soon", left < 300);
  }

  function formatSeconds(total) {
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h} h ${pad(m)} min ${pad(s)} s` : `${m} min ${pad(s)} s`;
  }

  async function loadSession(id) {
    setSession(await api("GET", `/sessions/${encodeURIComponent(id)}`));
  }

  // --- messages ---------------------------------------------------------------------------------------------------
  function messageItem(message) {
    const li = document.createElement("li");
    li.className = message.role === "user" ? "user" : "assistant";
    li.textContent = message.content;
    if (message.created_at) {
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = `${message.role} · ${new Date(message.created_at).toLocaleTimeString()}`;
      li.prepend(meta);
    }
    return li;
  }

  function clearMessages() {
    $("messages").replaceChildren();
    olderCursor = null;
    $("older").hidden = true;
  }

  function showEmpty() {
    dropEmpty();
    if ($("messages").children.length) return;
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = session ? "No messages yet." : "No session yet: start one with New session, or resume one by its id.";
    $("messages").append(li);
  }

  function dropEmpty() {
    for (const li of $("messages").querySelectorAll("li.empty")) li.remove();
  }

  async function loadPage(cursor) {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `/sessions/${encodeURIComponent(session.session_id)}/messages?${query}`);
    const list = $("messages");
    dropEmpty();
    const items = page.messages.map(messageItem); // each page is oldest-first; older pages go on top
    if (cursor) list.prepend(...items);
    else list.append(...items);
    olderCursor = page.next_cursor || null;
    $("older").hidden = !olderCursor;
    showEmpty();
    if (!cursor) list.scrollTop = list.scrollHeight;
  }

  async function openSession(id) {
    clearMessages();
    setSession(null);
    await loadSession(id);
    await loadPage(null);
  }

  async function send() {
    const text = $("compose").value;
    if (!text.trim() || !session || text.length > MAX_MESSAGE) return;
    await run("send", async () => {
      $("send").disabled = true;
      try {
        const sentAt = new Date().toISOString(); // this browser's clock; a reload shows the stored times
        const answer = await api("POST", `/sessions/${encodeURIComponent(session.session_id)}/messages`, { message: text });
        dropEmpty();
        const user = messageItem({ role: "user", content: text, created_at: sentAt });
        const reply = messageItem({ role: "assistant", content: answer.reply, created_at: new Date().toISOString() });
        $("messages").append(user, reply);
        $("messages").scrollTop = $("messages").scrollHeight;
        $("compose").value = "";
        countChars();
        await loadSession(session.session_id); // fresh count, state and expiry (the TTL slides on every write)
      } finally {
        countChars();
      }
    });
  }

  function countChars() {
    const n = $("compose").value.length;
    $("compose-count").textContent = `${n.toLocaleString("en")} / ${MAX_MESSAGE.toLocaleString("en")}`;
    $("compose-count").classList.toggle("over", n > MAX_MESSAGE);
    $("send").disabled = !session || n > MAX_MESSAGE || !$("compose").value.trim();
    $("send").title = n > MAX_MESSAGE ? `at most ${MAX_MESSAGE.toLocaleString("en")} characters` : "";
  }

  // --- tabs -------------------------------------------------------------------------------------------------------
  function showTab(name) {
    for (const button of document.querySelectorAll("#tabs [data-tab]")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === name));
    }
    for (const panel of document.querySelectorAll("[data-tab-panel]")) panel.hidden = panel.dataset.tabPanel !== name;
    document.body.dataset.tab = name; // style.css hides what belongs to another tab
    history.replaceState(null, "", name === "chat" ? location.pathname + location.search : `#${name}`);
    if (tabHandlers[name]) tabHandlers[name]();
  }

  function onTab(name, fn) {
    tabHandlers[name] = fn;
  }

  // --- wiring -----------------------------------------------------------------------------------------------------
  function targetChanged() {
    document.body.classList.toggle("remote", target() === "remote");
    clearMessages();
    setSession(null);
    showError(null);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("#tabs [data-tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
    $("target-local").addEventListener("change", targetChanged);
    $("target-remote").addEventListener("change", targetChanged);
    $("api-token").addEventListener("input", (e) => {
      token = e.target.value.trim();
    });
    $("new-session").addEventListener("click", () =>
      run("new session", async () => {
        const raw = $("new-state").value.trim();
        let body = {};
        if (raw) {
          try {
            body = { state: JSON.parse(raw) };
          } catch (err) {
            throw new Error(`state: not valid JSON (${err.message})`);
          }
        }
        clearMessages();
        const created = await api("POST", "/sessions", body);
        await openSession(created.session_id);
      }),
    );
    $("resume").addEventListener("click", () => {
      const id = $("resume-id").value.trim();
      if (id) run("resume", () => openSession(id));
    });
    $("resume-id").addEventListener("keydown", (e) => {
      if (e.key === "Enter") $("resume").click();
    });
    $("refresh").addEventListener("click", () =>
      run("refresh", async () => {
        clearMessages();
        await loadSession(session.session_id);
        await loadPage(null);
      }),
    );
    $("delete-session").addEventListener("click", () =>
      run("delete", async () => {
        await api("DELETE", `/sessions/${encodeURIComponent(session.session_id)}`);
        clearMessages();
        setSession(null);
      }),
    );
    $("older").addEventListener("click", () => run("older messages", () => loadPage(olderCursor)));
    $("send").addEventListener("click", send);
    $("compose").addEventListener("input", countChars);
    $("compose").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        send();
      }
    });
    setInterval(tick, 1000);
    setSession(null);
    const tabFromHash = () => {
      const wanted = location.hash.slice(1);
      showTab(document.querySelector(`#tabs [data-tab="${CSS.escape(wanted)}"]`) ? wanted : "chat");
    };
    window.addEventListener("hashchange", tabFromHash);
    tabFromHash();
    // Served by anything but `run-local serve` (no /_local/info): only a deployed API makes sense.
    fetch("/_local/info", { cache: "no-store" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((info) => status(`local server: table ${info.table}; ${info.routes.length} routes`))
      .catch(() => {
        $("target-remote").checked = true;
        targetChanged();
      });
  });

  // conversations.js (the conversation sidebar) opens and closes sessions through these three.
  const closeSession = () => {
    clearMessages();
    setSession(null);
  };
  window.chatstate = { api, showError, onTab, showTab, run, ApiError, openSession, closeSession, currentSession: () => session };
})();
