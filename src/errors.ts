/** An expected failure with a message a user acts on (missing secret, stale plan): printed as one line, no stack. */
export class PlumbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlumbError';
  }
}
