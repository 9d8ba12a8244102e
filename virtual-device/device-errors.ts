/** A command the device refuses; the message becomes the FAIL reason sent to the host. */
export class CommandFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailure';
  }
}
