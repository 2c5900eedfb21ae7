/** Prints how long the whole soak run took (CI keeps `test:soak` within 8 minutes). */
let t0 = 0

export function setup(): void {
  t0 = Date.now()
}

export function teardown(): void {
  console.log(`test:soak took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}
