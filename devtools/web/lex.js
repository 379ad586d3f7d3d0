// The Lex tab: ChatBot from template.yaml on the local Lex V2 simulator (POST /_local/lex/turn, /_local/lex/reset,
// devtools/lex_tab.py), like the Lex console's test window. Each turn shows the bot's messages, the dialog action,
// the intent with its state and slots, the session attributes it changed, and any problem Lex would have reported.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { api, onTab, run } = window.chatstate;

  let started = false;
  let available = false;
  let sessionId = null;
  let attributes = {}; // the session attributes after the last turn
  let turns = 0;
  let maxText = null; // RecognizeText's limit on one utterance, from the server (which refuses longer ones)

  function newSessionId() {
    const bytes = new Uint8Array(6);
    crypto.getRandomValues(bytes);
    return `page-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // a JSON object of strings from an input, or an Error that says which input is wrong
  function attributeInput(id, what) {
    const raw = $(id).value.trim();
    if (!raw) return undefined;
    let value;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${what}: not valid JSON (${err.message})`);
    }
    if (!value || typeof value !== "object" || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
      throw new Error(`${what}: must be a JSON object of strings, e.g. {"name": "Ana"}`);
    }
    return value;
  }

  // --- showing a session and its turns ----------------------------------------------------------------------------
  function setSession(id) {
    sessionId = id;
    attributes = {};
    turns = 0;
    $("lex-session-id").textContent = id;
    $("lex-turn-count").textContent = "0";
    $("lex-turns").replaceChildren(element("li", "empty", "Say something to the bot, e.g. \"hello\" or \"book a flight\"."));
    showAttributes({});
  }

  // JSON text that may wrap after its commas and colons (<wbr>), not inside a name or a value
  function breakable(tag, text) {
    const node = element(tag);
    const parts = String(text).split(/(?<=[,:])/);
    parts.forEach((part, i) => {
      if (i) node.append(document.createElement("wbr"));
      node.append(document.createTextNode(part));
    });
    return node;
  }

  function showAttributes(current, changed = new Set()) {
    const list = $("lex-attributes");
    list.replaceChildren();
    const names = Object.keys(current).sort();
    if (!names.length) list.append(element("dt", "", "–"), element("dd"));
    for (const name of names) {
      list.append(element("dt", changed.has(name) ? "changed" : "", name), breakable("dd", current[name]));
    }
  }

  function chip(className, label, value) {
    const span = element("span", `chip ${className}`);
    span.append(element("b", "", label), document.createTextNode(` ${value}`));
    return span;
  }

  function turnState(turn, changed) {
    const box = element("div", "lex-state");
    const action = turn.dialogAction || {};
    const detail = action.slotToElicit ? ` · ${action.slotToElicit}` : "";
    box.append(chip("lex-action", "action", `${action.type || "?"}${detail}`));
    const intent = turn.intent;
    if (intent) {
      const confirmation = intent.confirmationState && intent.confirmationState !== "None" ? `, ${intent.confirmationState}` : "";
      box.append(chip("lex-intent", "intent", `${intent.name} (${intent.state}${confirmation})`));
      const slots = element("span", "lex-slots");
      for (const [name, value] of Object.entries(intent.slots || {})) {
        slots.append(element("span", value === null ? "slot empty" : "slot", value === null ? name : `${name} = ${value}`));
      }
      if (slots.children.length) box.append(slots);
    } else {
      box.append(chip("lex-intent", "intent", "none"));
    }
    const attrs = element("div", "lex-attrs");
    if (changed.length) {
      attrs.append(element("b", "", changed.length === 1 ? "attribute set " : "attributes set "));
      attrs.append(...changed.map(([name, value]) => breakable("code", `${name}=${value === undefined ? "(removed)" : value}`)));
    } else {
      attrs.append(element("span", "muted", `session attributes unchanged (${Object.keys(turn.sessionAttributes).length})`));
    }
    box.append(attrs);
    box.append(inspect(turn));
    if (turn.problems && turn.problems.length) {
      const problems = element("ul", "lex-problems");
      problems.append(...turn.problems.map((p) => element("li", "", p)));
      box.append(problems);
    }
    if (turn.stuck) {
      const { slot, intent, tries } = turn.stuck; // the same slot asked for again and again: say the ways out
      box.append(element("p", "lex-stuck", `${slot} of ${intent} asked for ${tries + 1} times: answer it, say another request (e.g. "hello" or "book a flight"), or start a New session.`));
    }
    return box;
  }

  // like the console's "Inspect": the code-hook calls of the turn and the intents Lex considered
  function inspect(turn) {
    const details = element("details", "lex-inspect");
    const hooks = turn.codeHooks || [];
    details.append(element("summary", "", `inspect: ${hooks.length} code hook call${hooks.length === 1 ? "" : "s"}`));
    const list = element("ul");
    for (const hook of hooks) {
      const answer = hook.error ? `raised ${hook.error}` : `→ ${(hook.dialogAction && hook.dialogAction.type) || "?"}`;
      list.append(element("li", "", `${hook.invocationSource} (${hook.intent || "?"}) ${answer}`));
    }
    const ranked = (turn.interpretations || []).map((i) => {
      const score = typeof i.nluConfidence === "number" ? ` ${i.nluConfidence.toFixed(2)}` : "";
      return `${i.intent && i.intent.name}${score}`;
    });
    if (ranked.length) list.append(element("li", "", `interpretations: ${ranked.join(", ")}`));
    details.append(list);
    return details;
  }

  function showTurn(turn) {
    const list = $("lex-turns");
    for (const li of list.querySelectorAll("li.empty")) li.remove();
    const item = element("li", "lex-turn");
    item.append(element("p", "user", turn.input));
    const said = (turn.messages || []).filter((m) => m.content);
    if (said.length) item.append(...said.map((m) => element("p", "bot", m.content)));
    else item.append(element("p", "bot silent", "(no message)"));
    const before = attributes;
    const now = turn.sessionAttributes || {};
    const names = new Set([...Object.keys(before), ...Object.keys(now)]);
    const changed = [...names].sort().filter((n) => before[n] !== now[n]).map((n) => [n, now[n]]);
    item.append(turnState(turn, changed));
    list.append(item);
    item.scrollIntoView({ block: "end" });
    attributes = now;
    turns += 1;
    $("lex-turn-count").textContent = String(turns);
    showAttributes(now, new Set(changed.map(([n]) => n)));
  }

  // --- actions ------------------------------------------------------------------------------------------------------
  let busy = false; // one turn at a time, as in the console's test window

  async function send() {
    const text = $("lex-utterance").value;
    if (!text.trim() || !available || busy) return;
    busy = true;
    await run("Lex turn", async () => {
      const body = { sessionId, text };
      const sessionAttributes = attributeInput("lex-session-attrs", "session attributes");
      const requestAttributes = attributeInput("lex-request-attrs", "request attributes");
      if (sessionAttributes) body.sessionAttributes = sessionAttributes;
      if (requestAttributes) body.requestAttributes = requestAttributes;
      $("lex-send").disabled = true;
      try {
        showTurn(await api("POST", "/_local/lex/turn", body, { local: true }));
        $("lex-utterance").value = "";
        $("lex-session-attrs").value = ""; // now part of the session
        countChars();
      } finally {
        $("lex-send").disabled = false;
        $("lex-utterance").focus();
      }
    });
    busy = false;
  }

  async function newSession() {
    await run("new Lex session", async () => {
      if (sessionId) await api("POST", "/_local/lex/reset", { sessionId }, { local: true });
      setSession(newSessionId());
      $("lex-utterance").focus();
    });
  }

  function countChars() {
    const n = $("lex-utterance").value.length;
    const limit = maxText === null ? "?" : maxText.toLocaleString("en");
    $("lex-count").textContent = `${n.toLocaleString("en")} / ${limit}`;
    $("lex-count").classList.toggle("over", maxText !== null && n > maxText);
  }

  // the first time the tab is shown: wire it up and ask the server which bot it plays
  function start() {
    if (started) {
      $("lex-utterance").focus();
      return;
    }
    started = true;
    $("lex-form").addEventListener("submit", send); // Enter in the utterance box submits
    $("lex-new-session").addEventListener("click", newSession);
    $("lex-utterance").addEventListener("input", countChars);
    setSession(newSessionId());
    for (const id of ["lex-utterance", "lex-send", "lex-new-session"]) $(id).disabled = true;
    api("GET", "/_local/info", undefined, { local: true })
      .then((info) => {
        if (!info || !info.lex) throw new Error("no Lex bot");
        const lex = info.lex;
        $("lex-bot").textContent = `${lex.bot} (${lex.locale}): ${lex.intents.join(", ")}`;
        maxText = lex.maxTextChars;
        countChars();
        available = true;
        for (const id of ["lex-utterance", "lex-send", "lex-new-session"]) $(id).disabled = false;
        $("lex-utterance").focus();
      })
      .catch(() => {
        $("lex-bot").textContent = "The Lex tab needs the local server: scripts/run-local.sh serve";
      });
  }

  onTab("lex", start);
})();
