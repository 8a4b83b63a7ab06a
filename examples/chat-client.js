// The seed's chat client ("Client-side JavaScript"), run in Node with ferrocast's ws-style
// client: the only addition is the require line (the seed relies on a global WebSocket).
// Run: node examples/chat-client.js   (with examples/chat-server.js running)
const WebSocket = require('ferrocast/ws');
const socket = new WebSocket('ws://localhost:8080');

socket.on('open', () => {
    console.log('Connected to server');
    socket.send('Hello, server!');
});

socket.on('message', (data) => {
    console.log('Server says:', data);
});

socket.on('close', () => {
    console.log('Disconnected from server');
});
