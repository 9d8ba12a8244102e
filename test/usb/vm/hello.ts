// Step 1 of the USB VM harness: proves node runs inside the VM.
console.log(`FLASHLINE-USB-RESULT ${JSON.stringify({ step: 'node', versions: process.versions })}`);
