// The seed's chat server (real-time-event-processing.md, "WebSockets: True Real-Time
// Communication") with only the require line changed from 'ws' to 'ferrocast/ws'.
// Run: node examples/chat-server.js   (listens on port 8080; try examples/chat-client.js)
const WebSocket = require('ferrocast/ws');
const wss = new WebSocket.Server({ port: 8080 });

// Server-side WebSocket handling
wss.on('connection', (ws) => {
    console.log('New client connected');
  
    // Send welcome message
    ws.send('Welcome to the real-time chat!');
  
    // Handle incoming messages
    ws.on('message', (message) => {
        console.log('Received:', message);
      
        // Broadcast to all connected clients
        wss.clients.forEach((client) => {
            if (client.readyState === WebSocket.OPEN) {
                client.send(`Broadcast: ${message}`);
            }
        });
    });
  
    // Handle disconnection
    ws.on('close', () => {
        console.log('Client disconnected');
    });
});
