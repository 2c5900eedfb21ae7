import type { ConversationSummary } from '@cws/backend/contracts'
import type { DropdownOption } from 'naive-ui'
import type { Ref } from 'vue'
import { CreateOutline, TrashOutline } from '@vicons/ionicons5'
import { NIcon, useDialog, useMessage } from 'naive-ui'
import { h } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'
import { errorMessage } from '../../../locales'
import { useChatStore } from '../../../stores/chat'
import { useConversationsStore } from '../../../stores/conversations'

/** A sidebar conversation's menu (rename, delete) and the delete confirmation. */
export function useConversationMenu(openId: Ref<string | null>) {
  const list = useConversationsStore()
  const chat = useChatStore()
  const router = useRouter()
  const { t } = useI18n()
  const dialog = useDialog()
  const toast = useMessage()

  function menuOptions(): DropdownOption[] {
    return [
      { key: 'rename', label: t('chat.list.rename'), icon: () => h(NIcon, null, { default: () => h(CreateOutline) }), props: { 'data-testid': 'conversation-rename' } as Record<string, string> },
      { key: 'delete', label: t('chat.list.delete'), icon: () => h(NIcon, { color: '#d03050' }, { default: () => h(TrashOutline) }), props: { 'data-testid': 'conversation-delete', 'style': 'color:#d03050' } as Record<string, string> },
    ]
  }

  function confirmDelete(c: ConversationSummary): void {
    dialog.warning({
      title: t('chat.list.deleteTitle'),
      content: t('chat.list.deleteBody', { title: c.title || t('chat.untitled') }),
      positiveText: t('chat.list.delete'),
      negativeText: t('common.cancel'),
      positiveButtonProps: { type: 'error', ...({ 'data-testid': 'confirm-delete' } as any) },
      onPositiveClick: async () => {
        try {
          await list.remove(c.id)
          chat.forget(c.id)
          toast.success(t('chat.list.deleted'))
          if (openId.value === c.id)
            void router.push({ name: 'chat' })
        }
        catch (err) {
          toast.error(errorMessage(err))
          return false
        }
      },
    })
  }

  return { menuOptions, confirmDelete }
}
