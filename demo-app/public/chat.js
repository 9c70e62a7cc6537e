// The demo chat page: plain DOM, the socket.io client served by the gateway.
// Every piece of text from the network goes through textContent: nothing a user types becomes HTML.
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  // ?transport=polling keeps the session on long-polling (no upgrade), to try that path in a browser.
  const pollingOnly = params.get("transport") === "polling";
  const socket = io({ transports: pollingOnly ? ["polling"] : ["polling", "websocket"] });

  let room = null;
  let myId = null;

  $("name").value = localStorage.getItem("sio-gateway:name") || "";
  $("transport-hint").innerHTML = pollingOnly
    ? 'Long-polling only. <a href="?">Use WebSocket</a>'
    : 'Polling, then WebSocket. <a href="?transport=polling">Try long-polling only</a>';

  function setState(state, label) {
    const el = $("state");
    el.textContent = label || state;
    el.dataset.state = state;
    el.className = `pill state-${state}`;
  }

  function showError(text) {
    const el = $("error");
    el.textContent = text;
    el.hidden = !text;
  }

  function showTransport() {
    $("transport").textContent = socket.io.engine ? socket.io.engine.transport.name : "–";
  }

  function setRoom(next) {
    room = next;
    $("current-room").textContent = next || "none";
    $("leave").disabled = !next;
    $("text").disabled = $("send").disabled = !next;
    $("text").placeholder = next ? `Message #${next}` : "Join a room, then say something";
    if (!next) setMembers(0);
  }

  function setMembers(count) {
    $("members").textContent = String(count);
    $("members-label").textContent = count === 1 ? "member" : "members";
  }

  function addMessage({ text, meta, mine, system }) {
    const li = document.createElement("li");
    li.className = `message${mine ? " mine" : ""}${system ? " system" : ""}`;
    if (meta) {
      const span = document.createElement("span");
      span.className = "meta";
      span.textContent = meta;
      li.append(span);
    }
    li.append(document.createTextNode(text));
    $("messages").append(li);
    li.scrollIntoView({ block: "end" });
  }

  function join(name, nextRoom) {
    const previous = room;
    socket.emit("join", nextRoom, (answer) => {
      if (!answer || !answer.ok) return showError((answer && answer.error) || "join failed");
      showError("");
      if (previous && previous !== answer.room) socket.emit("leave", previous, () => {});
      setRoom(answer.room);
      setMembers(answer.members);
      if (previous !== answer.room) addMessage({ text: `${name} joined #${answer.room}`, system: true });
    });
  }

  let connectedBefore = false;
  socket.on("connect", () => {
    setState("connected");
    showTransport();
    socket.io.engine.on("upgrade", showTransport);
    // With connection-state recovery (the demo turns it on) a reconnection within two minutes gets
    // the same id, the room and every message missed meanwhile: nothing to do. A new session
    // (away too long, or the server could not recover it) has to join the room again.
    $("session").textContent = socket.recovered ? "recovered" : "new session";
    if (connectedBefore) {
      addMessage({ text: socket.recovered ? "reconnected: session recovered, no message lost" : "reconnected: new session", system: true });
      if (!socket.recovered && room) join($("name").value, room);
    }
    connectedBefore = true;
  });
  socket.on("hello", (hello) => {
    myId = hello.id;
    $("worker").textContent = `${hello.worker} (pid ${hello.pid})`;
  });
  socket.on("disconnect", (reason) => {
    setState(socket.active ? "reconnecting" : "disconnected", socket.active ? "reconnecting…" : `disconnected (${reason})`);
    $("transport").textContent = "–";
  });
  socket.io.on("reconnect_attempt", (attempt) => setState("reconnecting", `reconnecting… (${attempt})`));
  socket.on("connect_error", (error) => setState("reconnecting", `reconnecting… (${error.message})`));

  socket.on("chat", (message) => {
    addMessage({
      text: message.text,
      meta: `${message.name || message.from} · worker ${message.worker} · ${new Date(message.at).toLocaleTimeString()}`,
      mine: message.from === myId,
    });
  });
  socket.on("members", (update) => {
    if (update.room === room) setMembers(update.members);
  });

  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("name").value.trim();
    localStorage.setItem("sio-gateway:name", name);
    join(name, $("room").value.trim());
  });

  $("leave").addEventListener("click", () => {
    const leaving = room;
    socket.emit("leave", leaving, (answer) => {
      if (!answer || !answer.ok) return showError((answer && answer.error) || "leave failed");
      addMessage({ text: `you left #${leaving}`, system: true });
      setRoom(null);
    });
  });

  $("send-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (!room || text === "") return;
    socket.emit("chat", { room, text, name: $("name").value.trim() }, (answer) => {
      if (!answer || !answer.ok) return showError((answer && answer.error) || "send failed");
      showError("");
      $("text").value = "";
    });
  });
})();
