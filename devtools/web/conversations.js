// The conversation sidebar of the Agent chat tab and the caller's data controls:
//   GET /sessions (titles, relative times, "More" pages with next_cursor), PATCH /sessions/{id} (rename in place),
//   DELETE /sessions/{id} (delete in place, with confirmation), GET /me/export (every page merged into one JSON
//   download), DELETE /me (with confirmation; repeated with next_cursor until the receipt says complete).
// Uses window.chatstate from app.js: api(), run(), openSession(id), closeSession(), currentSession().
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const LIST_PAGE = 20;
  let nextCursor = null;
  let refreshTimer = null;

  // "just now", "5 min ago", "3 h ago", "2 d ago": how long ago an ISO time was
  function relativeTime(iso, now = Date.now()) {
    const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} d ago`;
  }

  function button(label, className, title, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    b.title = title;
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      onClick();
    });
    return b;
  }

  function conversationItem(entry) {
    const li = document.createElement("li");
    li.className = "conversation";
    li.dataset.sessionId = entry.session_id;
    const current = window.chatstate.currentSession();
    if (current && current.session_id === entry.session_id) li.classList.add("current");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "conversation-open";
    const title = document.createElement("span");
    title.className = "conversation-title";
    title.textContent = entry.title || "Untitled conversation";
    const when = document.createElement("time");
    when.className = "conversation-time";
    when.dateTime = entry.updated_at;
    when.title = new Date(entry.updated_at).toLocaleString();
    when.textContent = relativeTime(entry.updated_at);
    open.append(title, when);
    open.addEventListener("click", () => window.chatstate.run("open conversation", () => window.chatstate.openSession(entry.session_id)));
    const actions = document.createElement("span");
    actions.className = "conversation-actions";
    actions.append(
      button("Rename", "conversation-rename", "rename this conversation", () => startRename(li, entry)),
      button("Delete", "conversation-delete danger", "delete this conversation", () => confirmDelete(li, entry)),
    );
    li.append(open, actions);
    return li;
  }

  function startRename(li, entry) {
    const input = document.createElement("input");
    input.className = "conversation-title-input";
    input.value = entry.title || "";
    input.maxLength = 200;
    input.setAttribute("aria-label", "conversation title");
    const open = li.querySelector(".conversation-open");
    open.hidden = true;
    li.prepend(input);
    input.focus();
    input.select();
    let done = false;
    const finish = (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      if (!save || !title || title === entry.title) {
        input.remove();
        open.hidden = false;
        return;
      }
      window.chatstate.run("rename", async () => {
        try {
          const renamed = await window.chatstate.api("PATCH", `/sessions/${encodeURIComponent(entry.session_id)}`, { title });
          Object.assign(entry, renamed);
          li.replaceWith(conversationItem(entry));
        } catch (err) {
          input.remove();
          open.hidden = false;
          throw err;
        }
      });
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true));
  }

  function confirmDelete(li, entry) {
    if (li.querySelector(".conversation-confirm")) return;
    const box = document.createElement("div");
    box.className = "conversation-confirm";
    box.setAttribute("role", "alertdialog");
    box.textContent = "Delete this conversation? ";
    box.append(
      button("Delete", "conversation-confirm-yes danger", "delete it for good", () =>
        window.chatstate.run("delete conversation", async () => {
          await window.chatstate.api("DELETE", `/sessions/${encodeURIComponent(entry.session_id)}`);
          const current = window.chatstate.currentSession();
          if (current && current.session_id === entry.session_id) window.chatstate.closeSession();
          li.remove();
          showEmpty();
        }),
      ),
      button("Cancel", "conversation-confirm-no", "keep it", () => box.remove()),
    );
    li.append(box);
  }

  function showEmpty() {
    const list = $("conversation-list");
    list.querySelector("li.empty")?.remove();
    if (list.querySelector("li.conversation")) return;
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "No conversations yet.";
    list.append(li);
  }

  // cursor: append the page after it; none: reload from the top, as many as are shown (one request, up to 100).
  async function loadConversations(cursor) {
    const shown = document.querySelectorAll("#conversation-list li.conversation").length;
    const limit = cursor ? LIST_PAGE : Math.min(100, Math.max(LIST_PAGE, shown));
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    const page = await window.chatstate.api("GET", `/sessions?${query}`);
    const list = $("conversation-list");
    if (!cursor && editing()) {
      refreshSoon(); // again once the rename or confirmation is done
      return;
    }
    if (!cursor) list.replaceChildren();
    list.append(...page.sessions.map(conversationItem));
    nextCursor = page.next_cursor || null;
    $("conversations-more").hidden = !nextCursor;
    if (!cursor) currentFirst();
    showEmpty();
  }

  // The list's order trails activity by up to the store's index interval (10 min by default, docs/conversations.md):
  // the open conversation, whose exact updated_at the page has, goes first when it is newer than the top entry.
  function currentFirst() {
    const current = window.chatstate.currentSession();
    const list = $("conversation-list");
    const li = current && list.querySelector(`li[data-session-id="${CSS.escape(current.session_id)}"]`);
    const top = list.querySelector("li.conversation time");
    if (!li || !current.updated_at || li === list.firstElementChild) return;
    if (Date.parse(current.updated_at) <= Date.parse(top.dateTime)) return;
    const when = li.querySelector("time");
    when.dateTime = current.updated_at;
    when.textContent = relativeTime(current.updated_at);
    list.prepend(li);
  }

  function markCurrent() {
    const current = window.chatstate.currentSession();
    for (const li of document.querySelectorAll("#conversation-list li.conversation")) {
      li.classList.toggle("current", Boolean(current) && li.dataset.sessionId === current.session_id);
    }
  }

  // After a send, a new session or a deletion in the session panel: reload what is shown (once per burst).
  function refreshSoon() {
    markCurrent();
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => loadConversations(null).catch(() => {}), 150);
  }

  // A rename or a delete confirmation is open in the list: it is not redrawn under the user.
  function editing() {
    return Boolean(document.querySelector("#conversation-list .conversation-title-input, #conversation-list .conversation-confirm"));
  }

  // --- your data --------------------------------------------------------------------------------------------------
  async function exportData() {
    const merged = { profile: {}, sessions: [], lex_turns: [] };
    const byId = new Map();
    let cursor = null;
    let pages = 0;
    do {
      const path = cursor ? `/me/export?cursor=${encodeURIComponent(cursor)}` : "/me/export";
      const page = await window.chatstate.api("GET", path);
      if (page.profile) merged.profile = page.profile;
      for (const entry of page.sessions) {
        const known = byId.get(entry.session_id);
        if (known) known.messages = entry.messages.concat(known.messages); // a continued session: older messages
        else {
          const copy = { ...entry };
          delete copy.continued;
          byId.set(entry.session_id, copy);
          merged.sessions.push(copy);
        }
      }
      merged.lex_turns.push(...page.lex_turns);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor);
    merged.exported_at = new Date().toISOString();
    const blob = new Blob([JSON.stringify(merged, null, 2)], { type: "application/json" });
    const link = $("export-link");
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(blob);
    link.download = `chatstate-export-${merged.exported_at.slice(0, 10)}.json`;
    link.textContent = `${link.download} (${merged.sessions.length} conversations, ${pages} page${pages === 1 ? "" : "s"})`;
    link.hidden = false;
    link.click();
  }

  async function eraseMe() {
    let receipt = null;
    let cursor = null;
    do {
      const path = cursor ? `/me?cursor=${encodeURIComponent(cursor)}` : "/me";
      receipt = await window.chatstate.api("DELETE", path);
      cursor = receipt.next_cursor;
    } while (cursor);
    const counts = Object.entries(receipt.erased).map(([kind, n]) => `${kind.replace(/_/g, " ")}: ${n}`);
    $("erase-receipt").textContent = `Erased. ${counts.join(", ")}.`;
    $("erase-receipt").hidden = false;
    $("erase-confirm").hidden = true;
    window.chatstate.closeSession();
    await loadConversations(null);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("conversations-more").addEventListener("click", () => window.chatstate.run("more conversations", () => loadConversations(nextCursor)));
    $("conversations-reload").addEventListener("click", () => window.chatstate.run("conversations", () => loadConversations(null)));
    $("export-data").addEventListener("click", () => window.chatstate.run("export my data", exportData));
    $("erase-me").addEventListener("click", () => {
      $("erase-receipt").hidden = true;
      $("erase-confirm").hidden = false;
    });
    $("erase-confirm-no").addEventListener("click", () => {
      $("erase-confirm").hidden = true;
    });
    $("erase-confirm-yes").addEventListener("click", () => window.chatstate.run("erase me", eraseMe));
    // The session panel changes what is listed: a send (message count), a new, resumed or deleted session.
    const observer = new MutationObserver(refreshSoon);
    for (const id of ["session-id", "message-count"]) observer.observe($(id), { childList: true, characterData: true, subtree: true });
    for (const id of ["actor", "target-local", "target-remote"]) {
      $(id).addEventListener("change", () => {
        $("conversation-list").replaceChildren(); // another caller: start from their first page
        refreshSoon();
      });
    }
    window.chatstate.onTab("chat", refreshSoon);
    setInterval(() => {
      for (const when of document.querySelectorAll("#conversation-list time")) when.textContent = relativeTime(when.dateTime);
    }, 30000);
    refreshSoon();
  });

  window.chatstate.relativeTime = relativeTime;
})();
