/** The Node flags the server runs with (backend/node-flags.json). */
export declare function serverNodeFlags(): string[]
