import type { ExportConversation, ExportLabels } from './types'
import { formatExportDate } from './types'

/**
 * The conversation as a Markdown document: title, date, model, then every turn under a role header.
 * Message text is copied verbatim, so code fences and math delimiters (`$…$`, `$$…$$`, `\(…\)`,
 * `\[…\]`) are kept exactly as the model wrote them.
 */
export function conversationToMarkdown(conv: ExportConversation, labels: ExportLabels, locale = 'en'): string {
  const title = conv.title.trim() || labels.untitled
  const lines: string[] = [
    `# ${title.replace(/\n/g, ' ')}`,
    '',
    `- ${labels.date}: ${formatExportDate(conv.createdAt, locale)}`,
    `- ${labels.model}: ${conv.model}`,
    `- ${labels.exportedFrom}`,
    '',
  ]
  for (const turn of conv.turns) {
    const who = turn.role === 'user' ? labels.user : labels.assistant
    const model = turn.role === 'assistant' && turn.model && turn.model !== conv.model ? ` (${turn.model})` : ''
    const status = turn.status ? labels.status?.[turn.status] : undefined
    lines.push('---', '', `## ${who}${model}${status ? ` ${status}` : ''}`, '', turn.content.replace(/\s+$/, ''), '')
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`
}
