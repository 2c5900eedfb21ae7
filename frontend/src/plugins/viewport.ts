/**
 * Keeps `--app-height` equal to the visible viewport. On phones the on-screen keyboard shrinks the
 * visual viewport (iOS Safari does not resize `100dvh` for it), so the layout follows it and the
 * composer stays above the keyboard instead of behind it.
 */
export function setupViewport(win: Window = window): () => void {
  const vv = win.visualViewport
  if (!vv)
    return () => {}
  const root = win.document.documentElement
  let frame = 0
  const apply = (): void => {
    frame = 0
    root.style.setProperty('--app-height', `${Math.round(vv.height)}px`)
    // iOS scrolls the whole page to reveal the focused field; the layout already moved it into view.
    if (win.scrollY !== 0 && vv.height < win.innerHeight)
      win.scrollTo(0, 0)
  }
  const schedule = (): void => {
    if (!frame)
      frame = win.requestAnimationFrame(apply)
  }
  apply()
  vv.addEventListener('resize', schedule)
  vv.addEventListener('scroll', schedule)
  return () => {
    vv.removeEventListener('resize', schedule)
    vv.removeEventListener('scroll', schedule)
  }
}
