/*! Helpline chat widget.
 *
 * Embed on any page:
 *   <script src="https://support.example.com/widget.js" async></script>
 * Optional attributes on that tag:
 *   data-lang="de"      language of the widget's own texts (default: the browser's)
 *   data-title="Help"   header title (default: "Support" in the widget's language)
 *   data-open="true"    open the chat panel when the page loads
 *
 * The widget talks to the server that served this file over a WebSocket at
 * <that server>/widget/ws (protocol: channels/web_widget.py). Its only global is
 * `window.Helpline` with open(), close() and toggle().
 */
(() => {
  "use strict";

  // Every text a visitor reads, per language. Keys must be the same in each language.
  const STRINGS = {
    en: {
      title: "Support",
      launcher: "Chat with support",
      unread: "new messages",
      close: "Close chat",
      conversation: "Conversation",
      welcome: "Hi! Ask us anything, we're here to help.",
      label: "Your message",
      placeholder: "Type your message…",
      hint: "Press Enter to send, Shift+Enter for a new line.",
      send: "Send",
      attach: "Attach a file",
      you: "You",
      file: "The team sent a file that can only be opened in our other channels.",
      openFile: "Open the file",
      image: "Image",
      bot: "Assistant",
      agent: "Support team",
      sending: "Sending…",
      sent: "Sent",
      failed: "Not sent",
      connecting: "Connecting…",
      online: "Online",
      offline: "Offline. Reconnecting…",
      dismiss: "Dismiss",
      errors: {
        too_long: "Your message is too long. Please shorten it and try again.",
        empty: "Your message is empty.",
        rate_limited: "You are sending messages too quickly. Please wait a moment and try again.",
        bad_json: "Your message could not be read. Please try again.",
        bad_frame: "Your message could not be sent in this form. Please try again.",
        unknown_type: "The chat received an unexpected request. Please reload the page.",
        hello_first: "The chat is still connecting. Please try again in a moment.",
        file_too_large: "This file is too large to send here.",
        bad_file: "The file could not be sent. Please try again.",
        files_off: "Files cannot be sent in this chat.",
        too_large: "Your message is too large to send.",
        generic: "Something went wrong. Please try again.",
      },
    },
    de: {
      title: "Support",
      launcher: "Chat mit dem Support",
      unread: "neue Nachrichten",
      close: "Chat schließen",
      conversation: "Unterhaltung",
      welcome: "Hallo! Fragen Sie uns, wir helfen gern.",
      label: "Ihre Nachricht",
      placeholder: "Nachricht eingeben…",
      hint: "Eingabetaste zum Senden, Umschalt+Eingabetaste für eine neue Zeile.",
      send: "Senden",
      attach: "Datei anhängen",
      you: "Sie",
      file: "Das Team hat eine Datei gesendet, die hier nicht angezeigt werden kann.",
      openFile: "Datei öffnen",
      image: "Bild",
      bot: "Assistent",
      agent: "Support-Team",
      sending: "Wird gesendet…",
      sent: "Gesendet",
      failed: "Nicht gesendet",
      connecting: "Verbindung wird hergestellt…",
      online: "Online",
      offline: "Offline. Neuer Verbindungsversuch…",
      dismiss: "Ausblenden",
      errors: {
        too_long: "Ihre Nachricht ist zu lang. Bitte kürzen Sie sie und versuchen Sie es erneut.",
        empty: "Ihre Nachricht ist leer.",
        rate_limited:
          "Sie senden zu schnell. Bitte warten Sie einen Moment und versuchen Sie es erneut.",
        bad_json: "Ihre Nachricht konnte nicht gelesen werden. Bitte versuchen Sie es erneut.",
        bad_frame:
          "Ihre Nachricht konnte in dieser Form nicht gesendet werden. Bitte versuchen Sie es erneut.",
        unknown_type: "Der Chat hat eine unerwartete Anfrage erhalten. Bitte laden Sie die Seite neu.",
        hello_first: "Der Chat verbindet sich noch. Bitte versuchen Sie es gleich noch einmal.",
        file_too_large: "Diese Datei ist zu groß, um sie hier zu senden.",
        bad_file: "Die Datei konnte nicht gesendet werden. Bitte versuchen Sie es erneut.",
        files_off: "In diesem Chat können keine Dateien gesendet werden.",
        too_large: "Ihre Nachricht ist zu groß zum Senden.",
        generic: "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
      },
    },
    ru: {
      title: "Поддержка",
      launcher: "Чат с поддержкой",
      unread: "новые сообщения",
      close: "Закрыть чат",
      conversation: "Переписка",
      welcome: "Здравствуйте! Задайте вопрос, мы поможем.",
      label: "Ваше сообщение",
      placeholder: "Введите сообщение…",
      hint: "Enter — отправить, Shift+Enter — новая строка.",
      send: "Отправить",
      attach: "Прикрепить файл",
      you: "Вы",
      file: "Команда отправила файл, который здесь нельзя показать.",
      openFile: "Открыть файл",
      image: "Изображение",
      bot: "Ассистент",
      agent: "Служба поддержки",
      sending: "Отправляется…",
      sent: "Отправлено",
      failed: "Не отправлено",
      connecting: "Подключение…",
      online: "В сети",
      offline: "Нет соединения. Переподключаемся…",
      dismiss: "Скрыть",
      errors: {
        too_long: "Сообщение слишком длинное. Сократите его и попробуйте ещё раз.",
        empty: "Сообщение пустое.",
        rate_limited:
          "Вы отправляете сообщения слишком часто. Подождите немного и попробуйте ещё раз.",
        bad_json: "Не удалось прочитать сообщение. Попробуйте ещё раз.",
        bad_frame: "Сообщение не удалось отправить в таком виде. Попробуйте ещё раз.",
        unknown_type: "Чат получил неожиданный запрос. Обновите страницу.",
        hello_first: "Чат ещё подключается. Попробуйте через несколько секунд.",
        file_too_large: "Этот файл слишком большой, чтобы отправить его здесь.",
        bad_file: "Не удалось отправить файл. Попробуйте ещё раз.",
        files_off: "В этом чате нельзя отправлять файлы.",
        too_large: "Ваше сообщение слишком большое для отправки.",
        generic: "Что-то пошло не так. Попробуйте ещё раз.",
      },
    },
    zh: {
      title: "客服",
      launcher: "联系客服",
      unread: "条新消息",
      close: "关闭聊天",
      conversation: "对话",
      welcome: "您好！有任何问题都可以问我们。",
      label: "您的消息",
      placeholder: "请输入消息…",
      hint: "按 Enter 发送，按 Shift+Enter 换行。",
      send: "发送",
      attach: "添加文件",
      you: "我",
      file: "客服发送了一个文件，此处无法显示。",
      openFile: "打开文件",
      image: "图片",
      bot: "智能助手",
      agent: "客服人员",
      sending: "发送中…",
      sent: "已发送",
      failed: "发送失败",
      connecting: "正在连接…",
      online: "在线",
      offline: "已离线，正在重新连接…",
      dismiss: "关闭提示",
      errors: {
        too_long: "消息太长了，请缩短后重试。",
        empty: "消息不能为空。",
        rate_limited: "发送太频繁了，请稍等片刻再试。",
        bad_json: "无法读取该消息，请重试。",
        bad_frame: "消息格式有误，无法发送，请重试。",
        unknown_type: "聊天收到了意外的请求，请刷新页面。",
        hello_first: "聊天仍在连接中，请稍后再试。",
        file_too_large: "此文件太大，无法在这里发送。",
        bad_file: "文件发送失败，请重试。",
        files_off: "此聊天不支持发送文件。",
        too_large: "您的消息太大，无法发送。",
        generic: "出了点问题，请重试。",
      },
    },
    fr: {
      title: "Assistance",
      launcher: "Discuter avec l'assistance",
      unread: "nouveaux messages",
      close: "Fermer la discussion",
      conversation: "Conversation",
      welcome: "Bonjour ! Posez-nous votre question, nous sommes là pour vous aider.",
      label: "Votre message",
      placeholder: "Écrivez votre message…",
      hint: "Entrée pour envoyer, Maj+Entrée pour aller à la ligne.",
      send: "Envoyer",
      attach: "Joindre un fichier",
      you: "Vous",
      file: "L'équipe a envoyé un fichier qui ne peut pas être affiché ici.",
      openFile: "Ouvrir le fichier",
      image: "Image",
      bot: "Assistant",
      agent: "Équipe d'assistance",
      sending: "Envoi en cours…",
      sent: "Envoyé",
      failed: "Non envoyé",
      connecting: "Connexion en cours…",
      online: "En ligne",
      offline: "Hors ligne. Reconnexion…",
      dismiss: "Masquer",
      errors: {
        too_long: "Votre message est trop long. Raccourcissez-le puis réessayez.",
        empty: "Votre message est vide.",
        rate_limited:
          "Vous envoyez des messages trop rapidement. Patientez un instant puis réessayez.",
        bad_json: "Votre message n'a pas pu être lu. Veuillez réessayer.",
        bad_frame: "Votre message n'a pas pu être envoyé sous cette forme. Veuillez réessayer.",
        unknown_type: "La discussion a reçu une requête inattendue. Veuillez recharger la page.",
        hello_first: "La discussion est encore en cours de connexion. Réessayez dans un instant.",
        file_too_large: "Ce fichier est trop volumineux pour être envoyé ici.",
        bad_file: "Le fichier n'a pas pu être envoyé. Veuillez réessayer.",
        files_off: "Ce chat ne permet pas d'envoyer des fichiers.",
        too_large: "Votre message est trop volumineux pour être envoyé.",
        generic: "Une erreur s'est produite. Veuillez réessayer.",
      },
    },
    es: {
      title: "Soporte",
      launcher: "Chatear con soporte",
      unread: "mensajes nuevos",
      close: "Cerrar el chat",
      conversation: "Conversación",
      welcome: "¡Hola! Pregúntenos lo que necesite, estamos aquí para ayudarle.",
      label: "Su mensaje",
      placeholder: "Escriba su mensaje…",
      hint: "Intro para enviar, Mayús+Intro para una nueva línea.",
      send: "Enviar",
      attach: "Adjuntar un archivo",
      you: "Usted",
      file: "El equipo ha enviado un archivo que no se puede mostrar aquí.",
      openFile: "Abrir el archivo",
      image: "Imagen",
      bot: "Asistente",
      agent: "Equipo de soporte",
      sending: "Enviando…",
      sent: "Enviado",
      failed: "No enviado",
      connecting: "Conectando…",
      online: "En línea",
      offline: "Sin conexión. Reconectando…",
      dismiss: "Ocultar",
      errors: {
        too_long: "Su mensaje es demasiado largo. Acórtelo e inténtelo de nuevo.",
        empty: "Su mensaje está vacío.",
        rate_limited:
          "Está enviando mensajes demasiado rápido. Espere un momento e inténtelo de nuevo.",
        bad_json: "No se pudo leer su mensaje. Inténtelo de nuevo.",
        bad_frame: "No se pudo enviar su mensaje en este formato. Inténtelo de nuevo.",
        unknown_type: "El chat recibió una solicitud inesperada. Vuelva a cargar la página.",
        hello_first: "El chat todavía se está conectando. Inténtelo de nuevo en un momento.",
        file_too_large: "Este archivo es demasiado grande para enviarlo aquí.",
        bad_file: "No se ha podido enviar el archivo. Inténtelo de nuevo.",
        files_off: "En este chat no se pueden enviar archivos.",
        too_large: "Su mensaje es demasiado grande para enviarlo.",
        generic: "Algo ha fallado. Inténtelo de nuevo.",
      },
    },
  };

  // Captured synchronously: document.currentScript is only set while this file runs.
  const script =
    document.currentScript || document.querySelector('script[src$="widget.js"]') || null;

  if (window.Helpline) return; // included twice: the first copy owns the page

  const TOKEN_KEY = "helpline.token";
  const PENDING_KEY = "helpline.pending";
  const FILES_DB = "helpline-widget";
  const FILES_STORE = "pending-files";
  const FILES_KEPT_MS = 24 * 3600 * 1000; // a tab closed before the ack leaves its file
  const PING_MS = 20000;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const STICKY_SCROLL_PX = 80;
  const PREFIX = "hl";

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  const config = (() => {
    const data = (script && script.dataset) || {};
    const source = new URL((script && script.src) || "/widget.js", document.baseURI);
    const socket = new URL("widget/ws", source); // keeps a path prefix behind a proxy
    socket.protocol = source.protocol === "https:" ? "wss:" : "ws:";
    const candidates = data.lang
      ? [data.lang]
      : [...(navigator.languages || []), navigator.language];
    return {
      source: source.href,
      socketUrl: socket.href,
      language: pickLanguage(candidates),
      title: (data.title || "").trim(),
      openOnLoad: data.open === "true",
    };
  })();

  function pickLanguage(candidates) {
    for (const candidate of candidates) {
      if (typeof candidate !== "string") continue;
      const primary = candidate.toLowerCase().split(/[-_]/)[0];
      if (has(STRINGS, primary)) return primary;
    }
    return "en";
  }

  const T = STRINGS[config.language];

  function errorText(code) {
    return typeof code === "string" && has(T.errors, code) ? T.errors[code] : T.errors.generic;
  }

  // Storage may be unavailable (privacy modes, sandboxed frames): never let it break the chat.
  function storage(area) {
    return {
      get(key) {
        try {
          return window[area].getItem(key);
        } catch {
          return null;
        }
      },
      set(key, value) {
        try {
          window[area].setItem(key, value);
        } catch {
          /* not persisted: the chat still works for this page view */
        }
      },
      remove(key) {
        try {
          window[area].removeItem(key);
        } catch {
          /* nothing to remove */
        }
      },
    };
  }
  const local = storage("localStorage");
  const session = storage("sessionStorage");

  /**
   * Files of unacknowledged messages, kept in IndexedDB (sessionStorage holds text only)
   * so that a reload sends them again. Where IndexedDB is unavailable the message is
   * simply not restored: every call resolves, none rejects.
   */
  const pendingFiles = (() => {
    let opened = null;
    function database() {
      if (!opened) {
        opened = new Promise((resolve) => {
          try {
            const request = indexedDB.open(FILES_DB, 1);
            request.onupgradeneeded = () =>
              request.result.createObjectStore(FILES_STORE, { keyPath: "id" });
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => resolve(null);
            request.onblocked = () => resolve(null);
          } catch {
            resolve(null);
          }
        });
      }
      return opened;
    }
    async function run(mode, action) {
      const db = await database();
      if (!db) return null;
      return new Promise((resolve) => {
        try {
          const transaction = db.transaction(FILES_STORE, mode);
          const request = action(transaction.objectStore(FILES_STORE));
          transaction.oncomplete = () => resolve(request ? request.result : null);
          transaction.onerror = () => resolve(null);
          transaction.onabort = () => resolve(null);
        } catch {
          resolve(null);
        }
      });
    }
    return {
      put: (id, file) => run("readwrite", (store) => store.put({ id, file, at: Date.now() })),
      get: async (id) => {
        const record = await run("readonly", (store) => store.get(id));
        return record && record.file instanceof Blob ? record.file : null;
      },
      remove: (id) => run("readwrite", (store) => store.delete(id)),
      /** Forget files whose tab never came back for them. */
      sweep: () =>
        run("readwrite", (store) => {
          const cursor = store.openCursor();
          cursor.onsuccess = () => {
            const found = cursor.result;
            if (!found) return;
            if (!(found.value.at > Date.now() - FILES_KEPT_MS)) found.delete();
            found.continue();
          };
          return null;
        }),
    };
  })();

  function newClientId() {
    const bytes = new Uint8Array(9);
    crypto.getRandomValues(bytes); // available on plain http too, unlike randomUUID
    const random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `c${Date.now().toString(36)}-${random}`;
  }

  // ---- Styles -------------------------------------------------------------------------

  const CSS = `
:host { all: initial !important; display: block !important; }
.${PREFIX}-root {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC",
    "Microsoft YaHei", sans-serif;
  font-size: 15px; line-height: 1.45; color: #1f2328;
  -webkit-font-smoothing: antialiased;
}
.${PREFIX}-root *, .${PREFIX}-root *::before, .${PREFIX}-root *::after { box-sizing: border-box; }
.${PREFIX}-sr {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0;
}
.${PREFIX}-launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 56px; height: 56px; border-radius: 50%; border: 0; padding: 0; margin: 0;
  background: #0b5cad; color: #fff; cursor: pointer;
  display: flex; align-items: center; justify-content: center;
  box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25);
}
.${PREFIX}-launcher:hover { background: #094c8f; }
.${PREFIX}-launcher:focus-visible { outline: 3px solid #1f2328; outline-offset: 3px; }
.${PREFIX}-launcher svg { width: 28px; height: 28px; fill: currentColor; }
.${PREFIX}-badge {
  position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; padding: 0 5px;
  border-radius: 10px; background: #b42318; color: #fff; font-size: 12px; font-weight: 700;
  line-height: 20px; text-align: center; border: 2px solid #fff;
}
.${PREFIX}-badge[hidden] { display: none; }
.${PREFIX}-panel {
  position: fixed; right: 20px; bottom: 88px; z-index: 2147483001;
  width: 370px; max-width: calc(100vw - 24px);
  height: 560px; max-height: calc(100vh - 108px);
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 12px; border: 1px solid #d0d7de;
  box-shadow: 0 12px 32px rgba(0, 0, 0, 0.22);
}
.${PREFIX}-panel[hidden] { display: none; }
.${PREFIX}-header {
  flex: none; display: flex; align-items: center; gap: 8px;
  padding: 10px 8px 10px 16px; background: #0b5cad; color: #fff;
}
.${PREFIX}-heading { flex: 1; min-width: 0; }
.${PREFIX}-title {
  margin: 0; font-size: 16px; font-weight: 600; line-height: 1.3; color: inherit;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.${PREFIX}-status {
  display: flex; align-items: center; gap: 6px; margin: 0; font-size: 12px; color: #e6f0fa;
}
.${PREFIX}-status::before {
  content: ""; width: 8px; height: 8px; border-radius: 50%; background: #f5c451;
}
.${PREFIX}-status[data-state="online"]::before { background: #4ade80; }
.${PREFIX}-status[data-state="offline"]::before { background: #fca5a5; }
.${PREFIX}-icon-button {
  flex: none; width: 40px; height: 40px; border: 0; border-radius: 8px; padding: 0; margin: 0;
  background: transparent; color: inherit; cursor: pointer; font: inherit;
  display: flex; align-items: center; justify-content: center;
}
.${PREFIX}-icon-button:hover { background: rgba(255, 255, 255, 0.16); }
.${PREFIX}-icon-button:focus-visible { outline: 2px solid #fff; outline-offset: -4px; }
.${PREFIX}-icon-button svg { width: 20px; height: 20px; fill: currentColor; }
.${PREFIX}-icon-button[hidden] { display: none; }
.${PREFIX}-log {
  flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain;
  padding: 12px; background: #f6f8fa; display: flex; flex-direction: column; gap: 8px;
}
.${PREFIX}-log:focus-visible { outline: 2px solid #0b5cad; outline-offset: -2px; }
.${PREFIX}-welcome { margin: 8px 4px; color: #57606a; font-size: 14px; text-align: center; }
.${PREFIX}-welcome[hidden] { display: none; }
.${PREFIX}-msg {
  max-width: 85%; padding: 8px 12px; border-radius: 12px;
  background: #fff; border: 1px solid #d0d7de; color: #1f2328; align-self: flex-start;
}
.${PREFIX}-msg[data-sender="customer"] {
  align-self: flex-end; background: #0b5cad; border-color: #0b5cad; color: #fff;
}
.${PREFIX}-msg[data-sender="system"] { align-self: center; background: #eef1f4; }
.${PREFIX}-msg[data-status="failed"] { background: #fff; border-color: #b42318; color: #1f2328; }
.${PREFIX}-author { display: block; font-size: 12px; font-weight: 600; color: #57606a; }
.${PREFIX}-text { white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; }
.${PREFIX}-file { display: block; margin-top: 4px; font-size: 13px; font-style: italic; }
a.${PREFIX}-file { color: inherit; font-style: normal; text-decoration: underline; }
.${PREFIX}-image { display: block; max-width: 100%; max-height: 240px; border-radius: 8px; }
.${PREFIX}-meta { display: block; margin-top: 2px; font-size: 12px; color: #57606a; }
.${PREFIX}-msg[data-sender="customer"] .${PREFIX}-meta { text-align: right; color: #dbe9f8; }
.${PREFIX}-msg[data-status="failed"] .${PREFIX}-meta { color: #b42318; font-weight: 600; }
.${PREFIX}-meta > * + *::before { content: " · "; }
.${PREFIX}-meta > :empty { display: none; }
.${PREFIX}-alert {
  flex: none; display: flex; align-items: flex-start; gap: 8px; padding: 8px 8px 8px 12px;
  background: #fdecea; color: #8a1c12; border-top: 1px solid #f3b8b1; font-size: 14px;
}
.${PREFIX}-alert[hidden] { display: none; }
.${PREFIX}-alert p { flex: 1; margin: 0; padding-top: 2px; }
.${PREFIX}-alert .${PREFIX}-icon-button { width: 28px; height: 28px; color: #8a1c12; }
.${PREFIX}-alert .${PREFIX}-icon-button:hover { background: rgba(138, 28, 18, 0.1); }
.${PREFIX}-alert .${PREFIX}-icon-button:focus-visible { outline-color: #8a1c12; }
.${PREFIX}-composer {
  flex: none; display: flex; align-items: flex-end; gap: 8px; margin: 0; padding: 8px;
  border-top: 1px solid #d0d7de; background: #fff;
}
.${PREFIX}-input {
  flex: 1; min-width: 0; height: 40px; min-height: 40px; max-height: 132px; margin: 0;
  padding: 9px 10px; resize: none; overflow-y: auto;
  font: inherit; line-height: 20px; color: #1f2328; background: #fff;
  border: 1px solid #6e7781; border-radius: 8px;
}
.${PREFIX}-input::placeholder { color: #6e7781; opacity: 1; }
.${PREFIX}-input:focus { outline: 2px solid #0b5cad; outline-offset: 0; border-color: #0b5cad; }
.${PREFIX}-composer .${PREFIX}-icon-button { color: #57606a; }
.${PREFIX}-composer .${PREFIX}-icon-button:hover { background: #eef1f4; }
.${PREFIX}-composer .${PREFIX}-icon-button:focus-visible {
  outline: 2px solid #0b5cad; outline-offset: 0;
}
.${PREFIX}-send {
  flex: none; height: 40px; margin: 0; padding: 0 16px; border: 0; border-radius: 8px;
  background: #0b5cad; color: #fff; font: inherit; font-weight: 600; cursor: pointer;
}
.${PREFIX}-send:hover { background: #094c8f; }
.${PREFIX}-send:focus-visible { outline: 2px solid #1f2328; outline-offset: 2px; }
@media (max-width: 480px) {
  .${PREFIX}-launcher { right: 12px; bottom: 12px; }
  .${PREFIX}-panel {
    inset: 0; width: 100%; height: 100%; max-width: none; max-height: none;
    border: 0; border-radius: 0;
  }
}
@media (forced-colors: active) {
  .${PREFIX}-msg, .${PREFIX}-launcher, .${PREFIX}-send { border: 1px solid CanvasText; }
}
`;

  const ICON_CHAT =
    "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8.4L4 21.5V18a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 " +
    "6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 " +
    "0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z";
  const ICON_ATTACH =
    "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 " +
    "0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z";
  const ICON_CLOSE =
    "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 " +
    "10.6 12 5 6.4z";

  // ---- DOM helpers --------------------------------------------------------------------

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = `${PREFIX}-${value}`;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function icon(path) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  // ---- The widget ---------------------------------------------------------------------

  const ids = {
    panel: `${PREFIX}-panel`,
    title: `${PREFIX}-title`,
    input: `${PREFIX}-input`,
    hint: `${PREFIX}-hint`,
  };

  const ui = {};
  const state = {
    token: local.get(TOKEN_KEY),
    ws: null,
    ready: false,
    attempt: 0,
    reconnectTimer: null,
    heartbeatTimer: null,
    awaitingPong: false,
    started: false,
    open: false,
    unread: 0,
    byServerId: new Map(), // server message id -> element
    pending: new Map(), // client id -> {text, node}; sent, not yet acknowledged
    ownClientIds: new Set(),
    failedDraft: null, // a failed bubble whose text went back into the composer
    maxFileBytes: 0, // the server's limit for files; 0: it takes none
  };

  function build() {
    const host = document.createElement("helpline-widget");
    const root = host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS); // not subject to the host page's style-src policy
        root.adoptedStyleSheets = [sheet];
      } catch {
        root.append(el("style", { text: CSS }));
      }
    } else {
      root.append(el("style", { text: CSS }));
    }

    ui.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
    ui.launcher = el(
      "button",
      {
        type: "button",
        class: "launcher",
        "aria-label": T.launcher,
        "aria-expanded": "false",
        "aria-controls": ids.panel,
      },
      icon(ICON_CHAT),
      ui.badge,
    );

    ui.status = el("p", { class: "status", "data-state": "connecting", role: "status" });
    ui.close = el(
      "button",
      { type: "button", class: "icon-button", "aria-label": T.close },
      icon(ICON_CLOSE),
    );
    const header = el(
      "div",
      { class: "header" },
      el(
        "div",
        { class: "heading" },
        el("h2", { class: "title", id: ids.title, text: config.title || T.title }),
        ui.status,
      ),
      ui.close,
    );

    ui.welcome = el("p", { class: "welcome", text: T.welcome });
    ui.log = el(
      "div",
      {
        class: "log",
        role: "log",
        "aria-live": "polite",
        "aria-label": T.conversation,
        tabindex: "0",
      },
      ui.welcome,
    );

    ui.alertText = el("p");
    ui.dismiss = el(
      "button",
      { type: "button", class: "icon-button", "aria-label": T.dismiss },
      icon(ICON_CLOSE),
    );
    ui.alert = el("div", { class: "alert", role: "alert", hidden: true }, ui.alertText, ui.dismiss);

    ui.input = el("textarea", {
      id: ids.input,
      class: "input",
      rows: "1",
      placeholder: T.placeholder,
      "aria-describedby": ids.hint,
      enterkeyhint: "send",
      autocomplete: "off",
    });
    ui.fileInput = el("input", {
      type: "file",
      class: "sr",
      tabindex: "-1",
      "aria-hidden": "true",
    });
    ui.attach = el(
      "button",
      {
        type: "button",
        class: "icon-button",
        "aria-label": T.attach,
        title: T.attach,
        hidden: true,
      },
      icon(ICON_ATTACH),
    );
    ui.form = el(
      "form",
      { class: "composer", novalidate: true },
      el("label", { class: "sr", for: ids.input, text: T.label }),
      el("span", { class: "sr", id: ids.hint, text: T.hint }),
      ui.attach,
      ui.fileInput,
      ui.input,
      el("button", { type: "submit", class: "send", text: T.send }),
    );

    ui.panel = el(
      "div",
      {
        id: ids.panel,
        class: "panel",
        role: "dialog",
        "aria-labelledby": ids.title,
        lang: config.language === "zh" ? "zh-Hans" : config.language,
        hidden: true,
      },
      header,
      ui.log,
      ui.alert,
      ui.form,
    );

    root.append(el("div", { class: "root" }, ui.launcher, ui.panel));
    document.body.append(host);

    ui.launcher.addEventListener("click", () => (state.open ? close() : open({ focus: true })));
    ui.close.addEventListener("click", () => close());
    ui.dismiss.addEventListener("click", () => {
      hideAlert();
      ui.input.focus();
    });
    ui.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !event.isComposing) {
        event.preventDefault();
        close();
      }
    });
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    ui.input.addEventListener("keydown", (event) => {
      // keyCode 229: an input method (Chinese, Japanese…) is still composing.
      if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
      if (event.shiftKey) return; // the browser inserts the newline
      event.preventDefault();
      submit();
    });
    ui.input.addEventListener("input", resizeInput);
    ui.attach.addEventListener("click", () => ui.fileInput.click());
    ui.fileInput.addEventListener("change", () => {
      const [file] = ui.fileInput.files || [];
      ui.fileInput.value = ""; // choosing the same file again still counts
      if (file) submitFile(file);
    });
  }

  function resizeInput() {
    const input = ui.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 2, 132)}px`;
  }

  function setStatus(name) {
    ui.status.dataset.state = name;
    ui.status.textContent = T[name];
  }

  function showAlert(code) {
    ui.alertText.textContent = errorText(code);
    ui.alert.hidden = false;
  }

  function hideAlert() {
    ui.alert.hidden = true;
    ui.alertText.textContent = "";
  }

  function updateBadge() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread > 99 ? "99+" : String(state.unread);
    ui.launcher.setAttribute(
      "aria-label",
      state.unread ? `${T.launcher} (${state.unread} ${T.unread})` : T.launcher,
    );
  }

  function open({ focus = false } = {}) {
    state.open = true;
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    state.unread = 0;
    updateBadge();
    scrollToEnd(true);
    start();
    if (focus) ui.input.focus();
  }

  function close() {
    const hadFocus = ui.panel.contains(ui.panel.getRootNode().activeElement);
    state.open = false;
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    if (hadFocus) ui.launcher.focus();
  }

  // ---- Messages -----------------------------------------------------------------------

  function formatTime(value) {
    const date = value ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) return null;
    return el("time", {
      datetime: date.toISOString(),
      text: date.toLocaleTimeString(config.language, { hour: "2-digit", minute: "2-digit" }),
    });
  }

  /** A file in a message: shown or linked when the server can hand it out. */
  function fileNode(file) {
    const url = fileUrl(file && file.url);
    const name = file && typeof file.name === "string" && file.name ? file.name : null;
    if (!url && file && file.local) return el("div", { class: "file", text: `📎 ${name || ""}` });
    if (!url) return el("div", { class: "file", text: `📎 ${T.file}` });
    const link = el("a", { class: "file", href: url, target: "_blank", rel: "noopener" });
    if (file.kind === "image" || file.kind === "sticker") {
      link.append(el("img", { class: "image", src: url, alt: name || T.image, loading: "lazy" }));
    } else {
      link.textContent = `📎 ${name || T.openFile}`;
    }
    return link;
  }

  // Only links to this server's own file route are followed.
  function fileUrl(path) {
    if (typeof path !== "string" || !path.startsWith("/files/")) return null;
    return new URL(path.slice(1), config.source).href; // keeps a path prefix behind a proxy
  }

  function messageNode({ sender, author, text, at, status, files = [] }) {
    const known = ["customer", "agent", "bot", "system"].includes(sender) ? sender : "bot";
    let label = null;
    if (known === "customer") label = el("span", { class: "sr", text: `${T.you}:` });
    else if (known === "agent") label = el("span", { class: "author", text: author || T.agent });
    else if (known === "bot") label = el("span", { class: "author", text: author || T.bot });
    const node = el(
      "div",
      { class: "msg", "data-sender": known },
      label,
      el("div", { class: "text", text: typeof text === "string" ? text : "" }),
    );
    for (const file of files) node.append(fileNode(file));
    const meta = el("span", { class: "meta" }, formatTime(at));
    node.append(meta);
    if (status) setMessageStatus(node, status);
    return node;
  }

  function setMessageStatus(node, status) {
    node.dataset.status = status;
    const meta = node.querySelector(`.${PREFIX}-meta`);
    let label = meta.querySelector(`.${PREFIX}-state`);
    if (!label) {
      label = el("span", { class: "state" });
      meta.append(label);
    }
    label.textContent = T[status] || "";
  }

  function isNearEnd() {
    const log = ui.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < STICKY_SCROLL_PX;
  }

  function scrollToEnd(force) {
    if (force || isNearEnd()) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function updateWelcome() {
    ui.welcome.hidden = ui.log.querySelector(`.${PREFIX}-msg`) !== null;
  }

  // Server messages are ordered by id; unacknowledged ones stay at the end.
  function insertByServerId(node, serverId, { beforePending }) {
    for (const other of ui.log.querySelectorAll(`.${PREFIX}-msg`)) {
      const otherId = other.dataset.serverId;
      if (otherId === undefined ? beforePending : Number(otherId) > serverId) {
        ui.log.insertBefore(node, other);
        return;
      }
    }
    ui.log.append(node);
  }

  /** Show one server message unless it is already shown; true when it was added. */
  function addServerMessage(message, { fromHistory }) {
    if (!message || typeof message !== "object") return false;
    const serverId = Number(message.id);
    if (!Number.isFinite(serverId) || state.byServerId.has(serverId)) return false;
    const sender = message.direction === "incoming" ? "customer" : message.sender;
    const node = messageNode({
      sender,
      author: message.author,
      text: message.text,
      at: message.at,
      status: sender === "customer" ? "sent" : null, // the server has it: it was sent
      files: Array.isArray(message.attachments) ? message.attachments.slice(0, 10) : [],
    });
    node.dataset.serverId = String(serverId);
    state.byServerId.set(serverId, node);
    const stick = isNearEnd();
    insertByServerId(node, serverId, { beforePending: fromHistory });
    updateWelcome();
    scrollToEnd(stick);
    return true;
  }

  function clearServerMessages() {
    for (const node of state.byServerId.values()) node.remove();
    state.byServerId.clear();
    updateWelcome();
  }

  function savePending() {
    // The text goes to sessionStorage; a file's bytes wait in `pendingFiles`.
    const items = [...state.pending].map(([id, item]) => ({
      id,
      text: item.text,
      file: Boolean(item.file),
    }));
    if (items.length) session.set(PENDING_KEY, JSON.stringify(items));
    else session.remove(PENDING_KEY);
  }

  function settled(clientId, item) {
    state.pending.delete(clientId);
    savePending();
    if (item.file) pendingFiles.remove(clientId);
  }

  /** Messages sent before a reload that the server had not acknowledged: send them again,
   * in their order, files included while their bytes are still kept. */
  async function restorePending() {
    let items = [];
    try {
      items = JSON.parse(session.get(PENDING_KEY) || "[]");
    } catch {
      items = [];
    }
    if (!Array.isArray(items)) items = [];
    const valid = items.filter(
      (item) => item && typeof item.id === "string" && typeof item.text === "string"
    );
    const files = await Promise.all(
      valid.map((item) => (item.file ? pendingFiles.get(item.id) : null))
    );
    valid.forEach((item, index) => {
      if (item.file && !files[index]) return; // its bytes are gone: nothing to send
      queueMessage(item.id, item.text, files[index], { kept: true });
    });
    pendingFiles.sweep();
  }

  function queueMessage(clientId, text, file = null, { kept = false } = {}) {
    const files = file ? [{ name: file.name, local: true }] : [];
    const status = "sending";
    const node = messageNode({ sender: "customer", text, at: new Date(), status, files });
    node.dataset.clientId = clientId;
    ui.log.append(node);
    updateWelcome();
    scrollToEnd(true);
    state.pending.set(clientId, { text, node, file });
    state.ownClientIds.add(clientId);
    savePending();
    if (file && !kept) pendingFiles.put(clientId, file);
    transmit(clientId);
  }

  function submit() {
    const text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    resizeInput();
    hideAlert();
    if (state.failedDraft) {
      state.failedDraft.remove(); // its text was just edited and sent again
      state.failedDraft = null;
      updateWelcome();
    }
    queueMessage(newClientId(), text);
    start();
  }

  /** Send a file with what is typed so far as its message; the server checks it again. */
  function submitFile(file) {
    hideAlert();
    if (!file.size || file.size > state.maxFileBytes) {
      showAlert(file.size ? "file_too_large" : "bad_file");
      return;
    }
    const text = ui.input.value.trim();
    ui.input.value = "";
    resizeInput();
    queueMessage(newClientId(), text, file);
    start();
  }

  function transmit(clientId) {
    const item = state.pending.get(clientId);
    if (!item || !state.ready) return;
    const frame = { type: "message", id: clientId, text: item.text };
    const file = item.file;
    if (file) frame.file = { name: file.name, type: file.type, size: file.size };
    // The bytes follow their message as one binary frame.
    if (sendFrame(frame) && file) state.ws.send(file);
  }

  // ---- Connection ---------------------------------------------------------------------

  function sendFrame(frame) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function sendHello() {
    state.ready = false;
    sendFrame({
      type: "hello",
      token: state.token || null,
      language: navigator.language || config.language,
    });
  }

  /** Connect once there is something to talk about: the panel opened or a history exists. */
  function start() {
    state.started = true;
    if (!state.ws && !state.reconnectTimer) connect();
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    if (state.ws) return;
    setStatus("connecting");
    let ws;
    try {
      ws = new WebSocket(config.socketUrl);
    } catch {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    ws.addEventListener("open", () => {
      if (state.ws === ws) sendHello();
    });
    ws.addEventListener("message", (event) => {
      if (state.ws === ws) onFrame(event.data);
    });
    ws.addEventListener("close", () => {
      if (state.ws === ws) dropSocket();
    });
  }

  function dropSocket() {
    const ws = state.ws;
    state.ws = null;
    state.ready = false;
    stopHeartbeat();
    if (ws && ws.readyState < WebSocket.CLOSING) {
      try {
        ws.close(4000, "heartbeat timeout");
      } catch {
        /* already closing */
      }
    }
    setStatus("offline");
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (state.reconnectTimer) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** state.attempt);
    state.attempt = Math.min(state.attempt + 1, 10);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (!state.started || state.ws) return;
    state.attempt = 0;
    connect();
  }

  function startHeartbeat() {
    stopHeartbeat();
    state.awaitingPong = false;
    state.heartbeatTimer = setInterval(() => {
      // Any frame clears the flag; none since the last ping means the link is dead.
      if (state.awaitingPong) {
        dropSocket();
        return;
      }
      state.awaitingPong = sendFrame({ type: "ping" });
    }, PING_MS);
  }

  function stopHeartbeat() {
    clearInterval(state.heartbeatTimer);
    state.heartbeatTimer = null;
    state.awaitingPong = false;
  }

  // ---- Incoming frames ----------------------------------------------------------------

  function onFrame(raw) {
    state.awaitingPong = false;
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "ready") onReady(frame);
    else if (frame.type === "ack") onAck(frame);
    else if (frame.type === "message") onMessage(frame);
    else if (frame.type === "error") onError(frame);
  }

  function onReady(frame) {
    const previous = state.token;
    if (typeof frame.token === "string" && frame.token) {
      state.token = frame.token;
      local.set(TOKEN_KEY, frame.token);
    }
    if (previous && previous !== state.token) clearServerMessages(); // a new visitor identity
    const history = Array.isArray(frame.history) ? frame.history : [];
    for (const message of history) addServerMessage(message, { fromHistory: true });
    state.maxFileBytes = Number(frame.max_file_bytes) || 0;
    ui.attach.hidden = state.maxFileBytes <= 0;
    state.ready = true;
    state.attempt = 0;
    setStatus("online");
    startHeartbeat();
    for (const clientId of state.pending.keys()) transmit(clientId);
  }

  function onAck(frame) {
    const item = state.pending.get(frame.id);
    if (!item) return;
    settled(frame.id, item);
    const serverId = Number(frame.message_id);
    const shown = state.byServerId.get(serverId);
    if (shown && shown !== item.node) {
      item.node.remove(); // stored before a lost ack: the history already shows it
      return;
    }
    if (Number.isFinite(serverId)) {
      item.node.dataset.serverId = String(serverId);
      state.byServerId.set(serverId, item.node);
    }
    if (Array.isArray(frame.attachments) && frame.attachments.length) {
      for (const shown of item.node.querySelectorAll(`.${PREFIX}-file`)) shown.remove();
      const meta = item.node.querySelector(`.${PREFIX}-meta`);
      for (const file of frame.attachments.slice(0, 10)) {
        item.node.insertBefore(fileNode(file), meta);
      }
    }
    setMessageStatus(item.node, "sent");
  }

  function onMessage(frame) {
    if (typeof frame.client_id === "string" && state.ownClientIds.has(frame.client_id)) return;
    const added = addServerMessage(frame.message, { fromHistory: false });
    if (added && !state.open && frame.message.direction !== "incoming") {
      state.unread += 1;
      updateBadge();
    }
  }

  function onError(frame) {
    if (frame.code === "hello_first") {
      sendHello(); // the unacknowledged messages go again once the server is ready
      return;
    }
    const item = typeof frame.id === "string" ? state.pending.get(frame.id) : undefined;
    if (item) {
      settled(frame.id, item);
      setMessageStatus(item.node, "failed");
      if (item.text && !ui.input.value.trim()) {
        ui.input.value = item.text; // keep the text so the visitor can fix and retry
        resizeInput();
        state.failedDraft = item.node;
      }
    }
    showAlert(frame.code);
  }

  // ---- Start --------------------------------------------------------------------------

  function init() {
    build();
    setStatus("connecting");
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") reconnectNow();
    });
    // A returning visitor may have replies waiting: connect now. New visitors connect
    // when they open the chat, so a page view alone opens no socket.
    if (state.token) start();
    restorePending().then(() => {
      if (state.pending.size) start();
    });
    if (config.openOnLoad) open({ focus: false });
  }

  const whenBuilt =
    (action) =>
    (...args) => {
      if (ui.panel) action(...args);
    };
  window.Helpline = Object.freeze({
    version: "1",
    open: whenBuilt(() => open({ focus: true })),
    close: whenBuilt(() => close()),
    toggle: whenBuilt(() => (state.open ? close() : open({ focus: true }))),
  });

  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init, { once: true });
})();
