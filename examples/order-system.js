// The seed's EventEmitter example (an order system), with only the require line changed.
// Run: node examples/order-system.js
const EventEmitter = require('ferrocast/events'); // was: require('events')

// Create a simple order system
class OrderSystem extends EventEmitter {
    constructor() {
        super();
        this.orders = [];
    }

    addOrder(order) {
        this.orders.push(order);
        // Emit an event when order is added
        this.emit('orderPlaced', order);
    }

    processOrder(orderId) {
        const order = this.orders.find(o => o.id === orderId);
        if (order) {
            order.status = 'processing';
            this.emit('orderProcessing', order);
        }
    }
}

// Usage
const orderSystem = new OrderSystem();

// Listen for events
orderSystem.on('orderPlaced', (order) => {
    console.log(`New order received: ${order.id}`);
});

orderSystem.on('orderProcessing', (order) => {
    console.log(`Processing order: ${order.id}`);
});

// Trigger events
orderSystem.addOrder({ id: 1, item: 'pizza' });
orderSystem.processOrder(1);
