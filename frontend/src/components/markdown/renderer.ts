import type * as Render from './render'
import { loadAsset } from './assets'

/**
 * The Markdown renderer (markdown-it, DOMPurify, the highlight.js core: ~160 KB of the chat page's
 * JavaScript) loads when the first message is shown, not with the page.
 */
let loaded: typeof Render | null = null

export function loadMarkdownRenderer(): Promise<void> {
  return loadAsset('markdown renderer', async () => {
    loaded = await import('./render')
  })
}

/** The renderer, or null while it loads (the load is started then; `assetsVersion` tells when it is there). */
export function markdownRenderer(): typeof Render | null {
  if (!loaded)
    void loadMarkdownRenderer()
  return loaded
}
