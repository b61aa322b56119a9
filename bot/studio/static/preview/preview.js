// The editors' preview: draws the LINE messages the server returns (the webhook's very JSON)
// as LINE would show them, and sends each tap or typed text back with the signed state.
"use strict";

(() => {
  const api = document.body.dataset;
  const chat = document.getElementById("chat");
  const quick = document.getElementById("quick");
  const errorLine = document.getElementById("error");
  const versionSelect = document.getElementById("version");
  const stepSelect = document.getElementById("step");
  const restartButton = document.getElementById("restart");
  const form = document.getElementById("typing");
  const input = document.getElementById("text");
  const bundleLabel = document.getElementById("bundle");

  let token = null; // the conversation, signed by the server
  let busy = false;

  // Links LINE would open; anything else (javascript:, data:) is shown but not followed.
  const SAFE_LINK = /^(https?:|tel:|mailto:|line:)/i;
  const COLOR = /^#[0-9a-f]{6}([0-9a-f]{2})?$/i;
  const SIZES = new Set(["xxs", "xs", "sm", "md", "lg", "xl", "xxl", "3xl", "4xl", "5xl"]);
  const SPACES = new Set(["none", "xs", "sm", "md", "lg", "xl", "xxl"]);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  async function call(url, payload) {
    const init = payload === undefined ? {} : {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(payload),
    };
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      throw new Error("サーバーにつながりません。tsunagu serve が動いているか確かめてください。");
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch (err) {
      answer = null;
    }
    if (!response.ok || answer === null) {
      const said = answer && typeof answer.error === "string" ? answer.error : "";
      throw new Error(said || `サーバーがエラーを返しました（${response.status}）。`);
    }
    return answer;
  }

  function scrollDown() {
    chat.scrollTop = chat.scrollHeight;
  }

  function row(side, content) {
    const line = element("div", `row ${side}`);
    line.append(content);
    chat.append(line);
    scrollDown();
    return line;
  }

  function personSays(text) {
    row("person", element("div", "bubble person", text));
  }

  // --- Flex messages: bubbles and carousels of boxes, texts and buttons ---

  function spacing(kind, value) {
    return SPACES.has(value) ? ` ${kind}-${value}` : "";
  }

  function flexText(node) {
    const size = SIZES.has(node.size) ? node.size : "md";
    let className = `f-text size-${size}`;
    if (node.weight === "bold") className += " bold";
    if (node.wrap) className += " wrap";
    if (node.align === "center" || node.align === "end") className += ` align-${node.align}`;
    className += spacing("m", node.margin);
    const text = element("p", className, node.text);
    // Set through the CSSOM, which Content-Security-Policy allows (style attributes it does not).
    if (typeof node.color === "string" && COLOR.test(node.color)) text.style.color = node.color;
    return text;
  }

  function flexButton(node) {
    const action = node.action || {};
    const style = ["primary", "secondary", "link"].includes(node.style) ? node.style : "link";
    const className = `f-button ${style}${node.height === "sm" ? " small" : ""}` +
      spacing("m", node.margin);
    const label = action.label || "";
    if (action.type === "uri" && typeof action.uri === "string") {
      const link = element("a", className, label);
      if (SAFE_LINK.test(action.uri)) {
        link.href = action.uri;
        if (/^https?:/i.test(action.uri)) {
          link.target = "_blank";
          link.rel = "noopener noreferrer";
        }
      }
      link.title = action.uri;
      return link;
    }
    const button = element("button", className, label);
    button.type = "button";
    button.addEventListener("click", () => act(action));
    return button;
  }

  function flexBox(node) {
    const layout = ["horizontal", "baseline"].includes(node.layout) ? node.layout : "vertical";
    const box = element("div", `f-box ${layout}` + spacing("sp", node.spacing) +
      spacing("m", node.margin));
    for (const child of node.contents || []) box.append(flexNode(child));
    return box;
  }

  function flexBubble(node) {
    const size = ["nano", "micro", "deca", "hecto", "kilo", "mega", "giga"].includes(node.size)
      ? node.size : "mega";
    const card = element("div", `f-bubble size-${size}`);
    for (const part of ["header", "hero", "body", "footer"]) {
      if (!node[part]) continue;
      const section = element("div", `f-${part}`);
      section.append(flexNode(node[part]));
      card.append(section);
    }
    return card;
  }

  function flexNode(node) {
    if (!node || typeof node !== "object") return element("span");
    switch (node.type) {
      case "carousel": {
        const carousel = element("div", "f-carousel");
        for (const bubble of node.contents || []) carousel.append(flexBubble(bubble));
        return carousel;
      }
      case "bubble":
        return flexBubble(node);
      case "box":
        return flexBox(node);
      case "text":
        return flexText(node);
      case "button":
        return flexButton(node);
      case "separator":
        return element("hr", "f-separator" + spacing("m", node.margin));
      case "filler":
      case "spacer":
        return element("div", "f-filler");
      default:
        // Images and icons would be fetched from elsewhere; the preview names them instead.
        return element("span", "f-unknown", `［${node.type}］`);
    }
  }

  // --- Messages and quick replies ---

  function botSays(message) {
    if (message.type === "text") {
      row("bot", element("div", "bubble bot", message.text));
    } else if (message.type === "flex") {
      const flex = element("div", "flex");
      flex.append(flexNode(message.contents));
      flex.title = message.altText || "";
      row("bot wide", flex);
    } else {
      row("bot", element("div", "bubble bot other", `［${message.type} メッセージ］`));
    }
  }

  function showQuickReplies(messages) {
    quick.replaceChildren();
    const last = messages[messages.length - 1];
    const items = last && last.quickReply ? last.quickReply.items || [] : [];
    for (const item of items) {
      const action = item.action || {};
      const button = element("button", "quick-reply", action.label || "");
      button.type = "button";
      if (!["postback", "message", "uri"].includes(action.type)) {
        button.disabled = true; // camera, location, date pickers: not in the preview
        button.title = `${action.type} はプレビューでは使えません`;
      }
      button.addEventListener("click", () => act(action));
      quick.append(button);
    }
  }

  function show(answer) {
    token = answer.token;
    bundleLabel.textContent = answer.bundle || "…";
    const messages = Array.isArray(answer.messages) ? answer.messages : [];
    for (const message of messages) botSays(message);
    showQuickReplies(messages);
    scrollDown(); // the quick replies took room from the chat
    document.body.dataset.ready = "yes";
  }

  function setBusy(value) {
    busy = value;
    document.body.classList.toggle("busy", value);
    for (const button of quick.querySelectorAll("button")) button.disabled = value;
  }

  async function send(payload, shown) {
    if (busy || !token) return;
    showError("");
    if (shown) personSays(shown);
    quick.replaceChildren(); // LINE hides the quick replies once one is tapped
    setBusy(true);
    try {
      show(await call(api.send, {token, ...payload}));
    } catch (err) {
      showError(err.message);
    } finally {
      setBusy(false);
    }
  }

  // A tap: a postback shows its displayText as the person's message (as LINE does) and sends
  // its data; a message action sends its text; a web or tel: link opens.
  function act(action) {
    if (action.type === "postback" && typeof action.data === "string") {
      send({postback: action.data}, action.displayText || "");
    } else if (action.type === "message" && typeof action.text === "string") {
      send({text: action.text}, action.text);
    } else if (action.type === "uri" && SAFE_LINK.test(action.uri || "")) {
      window.open(action.uri, "_blank", "noopener");
    }
  }

  function fillSteps(steps) {
    const chosen = stepSelect.value;
    const first = stepSelect.options[0];
    stepSelect.replaceChildren(first);
    for (const step of steps || []) {
      const option = element("option", "", `${step.id}：${step.question}`);
      option.value = step.id;
      stepSelect.append(option);
    }
    stepSelect.value = [...stepSelect.options].some((o) => o.value === chosen) ? chosen : "";
  }

  async function start() {
    if (busy) return;
    showError("");
    chat.replaceChildren();
    quick.replaceChildren();
    token = null;
    delete document.body.dataset.ready;
    setBusy(true);
    try {
      const answer = await call(api.start, {version: versionSelect.value, step: stepSelect.value});
      fillSteps(answer.steps);
      show(answer);
    } catch (err) {
      showError(err.message);
    } finally {
      setBusy(false);
    }
  }

  async function loadVersions() {
    try {
      const answer = await call(api.versions);
      versionSelect.replaceChildren();
      for (const version of answer.versions || []) {
        const option = element("option", "", version.label);
        option.value = version.value;
        versionSelect.append(option);
      }
    } catch (err) {
      showError(err.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy || !token) return;
    input.value = "";
    send({text}, text);
  });
  restartButton.addEventListener("click", start);
  versionSelect.addEventListener("change", start);
  stepSelect.addEventListener("change", start);

  loadVersions().then(start);
})();
