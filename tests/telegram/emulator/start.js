// Starts telegram-test-api for artistbot's end-to-end tests, with the small
// compatibility fixes python-telegram-bot 22 needs. Usage: node start.js PORT
// Prints "ready <port>" on stdout once listening; stops on SIGTERM/SIGINT.
'use strict';

const { routes } = require('telegram-test-api/lib/routes/index');
const { TelegramServer } = require('telegram-test-api/lib/telegramServer');

const BOT = { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' };
// Calls the emulator does not implement, recorded so tests can look at them.
const calls = [];
// Files uploaded by the tests, by file id.
const files = new Map();

function ok(result) {
  return (req, res) => {
    calls.push({ method: req.params.method, token: req.params.token, body: req.body });
    res.json({ ok: true, result });
  };
}

const fixes = (app, server) => {
  // getMe lacks is_bot (a required field of User).
  app.all('/bot:token/getMe', (req, res) => res.json({
    ok: true,
    result: { ...BOT, can_join_groups: true, can_read_all_group_messages: false,
      supports_inline_queries: true },
  }));
  // Edits answer null; the Bot API answers the message or true.
  app.all('/bot:token/editMessageText', (req, res) => {
    server.editMessageText(req.body);
    res.json({ ok: true, result: true });
  });
  app.all('/bot:token/editMessageReplyMarkup', (req, res) => {
    server.editMessageReplyMarkup(req.body);
    res.json({ ok: true, result: true });
  });
  // Methods the emulator answers with HTTP 500: accept and record them.
  for (const method of ['answerCallbackQuery', 'sendChatAction', 'setMyCommands',
    'deleteMyCommands', 'answerInlineQuery', 'getMyCommands']) {
    app.all(`/bot:token/:method(${method})`, ok(true));
  }
  // Files (documents): a test uploads the bytes under a file id; the bot asks getFile for
  // the file's path, then downloads it from /file/bot<token>/<path>, as from Telegram.
  app.post('/uploadFile', (req, res) => {
    files.set(req.body.fileId, Buffer.from(req.body.base64, 'base64'));
    res.json({ ok: true, result: true });
  });
  app.all('/bot:token/getFile', (req, res) => {
    calls.push({ method: 'getFile', token: req.params.token, body: req.body });
    const data = files.get(req.body.file_id);
    if (data === undefined) {
      res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: invalid file_id' });
      return;
    }
    res.json({ ok: true, result: { file_id: req.body.file_id, file_unique_id: req.body.file_id,
      file_size: data.length, file_path: `documents/${req.body.file_id}` } });
  });
  app.get('/file/bot:token/documents/:fileId', (req, res) => {
    const data = files.get(req.params.fileId);
    if (data === undefined) {
      res.status(404).end();
      return;
    }
    res.type('application/octet-stream').send(data);
  });
  // Test-side routes: recorded calls, and inline queries (not emulated at all).
  app.post('/recordedCalls', (req, res) => res.json({
    ok: true, result: calls.filter((c) => c.token === req.body.token),
  }));
  // Answers the query's id, so a test can tell which query an answer was for.
  app.post('/sendInlineQuery', (req, res) => {
    const common = server.getCommonFields(req.body.botToken);
    server.addUserUpdate({ ...common, inlineQuery: req.body });
    res.json({ ok: true, result: { id: String(common.updateId) } });
  });
};
routes.unshift(fixes);

// Bot messages carry dates in milliseconds and no sender; the Bot API uses seconds.
const addBotMessage = TelegramServer.prototype.addBotMessage;
TelegramServer.prototype.addBotMessage = function patched(rawMessage, botToken) {
  const message = addBotMessage.call(this, rawMessage, botToken);
  // Form-encoded requests carry objects as JSON strings; the result must hold objects.
  const parsed = Object.fromEntries(Object.entries(message).map(([key, value]) => [key,
    key !== 'text' && typeof value === 'string' && /^[[{]/.test(value) ? JSON.parse(value) : value]));
  return { ...parsed, date: Math.floor(message.date / 1000), from: BOT };
};

// Callback queries lack chat_instance; inline queries are not formatted at all.
const formatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = function patched(update) {
  if ('inlineQuery' in update) {
    const { botToken, ...query } = update.inlineQuery;
    return { update_id: update.updateId,
      inline_query: { id: String(update.updateId), offset: '', ...query } };
  }
  const formatted = formatUpdate(update);
  if (formatted.callback_query) {
    formatted.callback_query.chat_instance = String(formatted.callback_query.message?.chat?.id ?? 0);
  }
  return formatted;
};

const port = Number(process.argv[2] || 9000);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
server.start().then(() => {
  process.stdout.write(`ready ${port}\n`);
});
const stop = () => server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
