// The seed's memory-management and error-handling examples, with only the require line changed.
// Run: node examples/memory-and-errors.js
const EventEmitter = require('ferrocast/events'); // was: require('events')

// Memory Management
class EventManager extends EventEmitter {
    constructor() {
        super();
        // Increase max listeners if needed
        this.setMaxListeners(20);
    }

    // Always clean up listeners
    destroy() {
        this.removeAllListeners();
    }
}

// Proper listener management
const emitter = new EventEmitter();

function onData(data) {
    console.log('Data received:', data);
}

// Add listener
emitter.on('data', onData);
emitter.emit('data', 42);

// Remove when done
emitter.removeListener('data', onData);
emitter.emit('data', 43); // nobody listens any more

const manager = new EventManager();
manager.on('tick', () => {});
console.log('max listeners:', manager.getMaxListeners(), 'listeners:', manager.listenerCount('tick'));
manager.destroy();
console.log('after destroy:', manager.listenerCount('tick'));

// Error Handling
const errorEmitter = new EventEmitter();

// Always handle errors
errorEmitter.on('error', (error) => {
    console.error('Event error:', error.message);
});

// Emit with error checking
function safeEmit(eventName, data) {
    try {
        errorEmitter.emit(eventName, data);
    } catch (error) {
        errorEmitter.emit('error', error);
    }
}

errorEmitter.on('work', (data) => {
    if (data.fail) throw new Error(`cannot process ${data.id}`);
    console.log('processed', data.id);
});
safeEmit('work', { id: 1 });
safeEmit('work', { id: 2, fail: true });
