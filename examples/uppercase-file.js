// The seed's stream example ("Real-Time Data Streams") with ferrocast's Rust transform in place
// of its JS Transform: same pipe, same events, the uppercasing runs off the main thread.
//
// Run:  node examples/uppercase-file.js [input.txt] [output.txt]
// (defaults: input.txt and output.txt in the current directory, as in the seed)

const fs = require('fs');
const { transforms } = require('ferrocast'); // was: const { Transform } = require('stream');

// Create a transform stream that uppercases text
const uppercaseTransform = transforms.uppercase();

const [input = 'input.txt', output = 'output.txt'] = process.argv.slice(2);

// Read file as stream
const readStream = fs.createReadStream(input);
const writeStream = fs.createWriteStream(output);

// Pipe data through the transform
readStream.pipe(uppercaseTransform).pipe(writeStream);

// Handle events
readStream.on('data', (chunk) => {
  console.log('Received chunk:', chunk.length, 'bytes');
});

readStream.on('end', () => {
  console.log('File reading completed');
});
