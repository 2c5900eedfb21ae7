import type { ExportConversation, ExportLabels } from './types'
import { renderMarkdownComplete } from '../../components/markdown/render'
import { formatExportDate, safeFileName } from './types'
import 'katex/dist/katex.min.css'
import '../../components/markdown/markdown.css'
import './pdf.css'

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' })[c]!)
}

/**
 * Builds the printable page: light theme whatever the app's theme, highlighted code, KaTeX math,
 * no buttons. Message HTML comes from the same sanitising renderer as the chat (memoised), once the
 * code languages and KaTeX it needs have loaded.
 */
export async function buildPdfDocument(conv: ExportConversation, labels: ExportLabels, locale = 'en'): Promise<HTMLElement> {
  const root = document.createElement('div')
  root.className = 'cws-pdf'
  const title = conv.title.trim() || labels.untitled
  const parts: string[] = [
    `<header class="cws-pdf-header"><h1>${escapeHtml(title)}</h1>`,
    `<p class="cws-pdf-meta">${escapeHtml(labels.date)}: ${escapeHtml(formatExportDate(conv.createdAt, locale))} · ${escapeHtml(labels.model)}: ${escapeHtml(conv.model)}</p></header>`,
  ]
  for (const turn of conv.turns) {
    const who = turn.role === 'user' ? labels.user : labels.assistant
    const status = turn.status ? labels.status?.[turn.status] : undefined
    const body = turn.role === 'user'
      ? `<div class="cws-pdf-user-text">${escapeHtml(turn.content)}</div>`
      : `<div class="md-body md-light">${await renderMarkdownComplete(turn.content)}</div>`
    parts.push(`<section class="cws-pdf-turn cws-pdf-${turn.role}"><div class="cws-pdf-role">${escapeHtml(who)}${status ? ` <span class="cws-pdf-status">${escapeHtml(status)}</span>` : ''}</div>${body}</section>`)
  }
  parts.push(`<footer class="cws-pdf-footer">${escapeHtml(labels.exportedFrom)}</footer>`)
  root.innerHTML = parts.join('')
  return root
}

/** Renders the conversation to a PDF with html2pdf.js (loaded on first use) and downloads it. */
export async function exportConversationPdf(conv: ExportConversation, labels: ExportLabels, locale = 'en'): Promise<void> {
  const { default: html2pdf } = await import('html2pdf.js')
  const page = await buildPdfDocument(conv, labels, locale)
  // Off-screen host so fonts and styles apply while html2pdf clones it.
  const host = document.createElement('div')
  host.className = 'cws-pdf-host'
  host.appendChild(page)
  document.body.appendChild(host)
  try {
    await document.fonts?.ready
    const long = conv.turns.reduce((n, t) => n + t.content.length, 0) > 60_000
    const options = {
      margin: [12, 12, 14, 12],
      filename: safeFileName(conv.title, 'pdf'),
      image: { type: 'jpeg', quality: 0.95 },
      html2canvas: { scale: long ? 1.5 : 2, useCORS: true, backgroundColor: '#ffffff', logging: false, windowWidth: 760 },
      jsPDF: { unit: 'mm', format: 'a4', orientation: 'portrait' },
      pagebreak: { mode: ['css', 'legacy'], avoid: ['tr', '.math-block', '.cws-pdf-role', 'img', '.md-code-header'] },
    }
    const worker = (html2pdf as unknown as () => { set: (o: unknown) => { from: (el: HTMLElement) => { save: () => Promise<void> } } })()
    await worker.set(options).from(page).save()
  }
  finally {
    host.remove()
  }
}
