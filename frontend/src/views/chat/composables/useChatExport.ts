import type { ExportConversation, ExportLabels } from '../../../utils/export/types'
import { useMessage } from 'naive-ui'
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useChatStore } from '../../../stores/chat'
import { downloadText } from '../../../utils/export/download'
import { conversationToMarkdown } from '../../../utils/export/markdown'
import { exportLabels, safeFileName } from '../../../utils/export/types'

/** Export menu actions for the conversation on screen. */
export function useChatExport() {
  const chat = useChatStore()
  const { t, locale } = useI18n()
  const message = useMessage()
  const exportingPdf = ref(false)

  function modelName(key: string): string {
    return chat.models.find(m => m.key === key)?.name ?? key
  }

  function snapshot(): { conv: ExportConversation, labels: ExportLabels } {
    const state = chat.current
    const conv: ExportConversation = {
      title: state.title || t('chat.untitled'),
      createdAt: state.createdAt,
      model: modelName(state.model || chat.selectedModel),
      turns: chat.messages.map(m => ({ role: m.role, content: m.content, model: modelName(m.model), status: m.status })),
    }
    const labels = exportLabels(t, t('chat.you'))
    return { conv, labels }
  }

  function exportMarkdown(): void {
    const { conv, labels } = snapshot()
    downloadText(conversationToMarkdown(conv, labels, locale.value), safeFileName(conv.title, 'md'))
  }

  async function exportPdf(): Promise<void> {
    if (exportingPdf.value)
      return
    exportingPdf.value = true
    const loading = message.loading(t('chat.exportingPdf'), { duration: 0 })
    try {
      const { conv, labels } = snapshot()
      const { exportConversationPdf } = await import('../../../utils/export/pdf')
      await exportConversationPdf(conv, labels, locale.value)
    }
    catch (err) {
      console.error(err)
      message.error(t('chat.exportFailed'))
    }
    finally {
      loading.destroy()
      exportingPdf.value = false
    }
  }

  return { exportMarkdown, exportPdf, exportingPdf }
}
