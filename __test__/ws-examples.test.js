'use strict';

// The seed's chat server and client (examples/chat-*.js) run against ferrocast/ws with only
// the require line changed. They hard-code port 8080; to stay clear of other processes the
// test runs each file's text with 8080 replaced by a free port.

const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT } = require('./helpers');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(file, port) {
  const code = fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8').replace(/8080/g, String(port));
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT });
  child.out = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.out += d));
  return child;
}

async function waitFor(pred, ms = 8000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('examples: the seed chat over ferrocast/ws', function () {
  it('chat-server.js and chat-client.js talk, with only the require line changed', async function () {
    for (const file of ['chat-server.js', 'chat-client.js']) {
      const text = fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8');
      assert.match(text, /require\('ferrocast\/ws'\)/);
      assert.doesNotMatch(text, /require\('ws'\)/);
    }
    const port = await freePort();
    const server = start('chat-server.js', port);
    let client;
    try {
      const up = await waitFor(() => {
        const s = net.connect(port, 'localhost');
        s.on('connect', () => {
          server.listening = true;
          s.destroy();
        });
        s.on('error', () => {});
        return server.listening;
      });
      assert.ok(up, `server did not start: ${server.out}`);
      client = start('chat-client.js', port);
      const talked = await waitFor(
        () => (client.out.match(/Server says:/g) || []).length >= 2 && server.out.includes('Received:'),
      );
      assert.ok(talked, `client: ${client.out}\nserver: ${server.out}`);
      assert.match(client.out, /Connected to server/);
      assert.match(server.out, /New client connected/);
      assert.match(server.out, /Received: <Buffer 48 65 6c 6c 6f 2c 20 73 65 72 76 65 72 21>/);
      client.kill();
      assert.ok(await waitFor(() => server.out.includes('Client disconnected')), server.out);
    } finally {
      if (client) client.kill('SIGKILL');
      server.kill('SIGKILL');
    }
  });
});
