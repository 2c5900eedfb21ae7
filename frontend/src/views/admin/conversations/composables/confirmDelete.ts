import type { AdminConversationSummary } from '@cws/backend/contracts'
import { useDialog, useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { deleteConversation } from '../../../../api/admin'
import { errorMessage } from '../../../../locales'
import { ownerName } from './conversation'

/**
 * The confirmation before deleting a conversation, naming it and its owner; the outcome is reported in
 * a message and `deleted` hears of a success. A refused delete keeps the dialog open.
 */
export function useConfirmDelete(deleted: (c: AdminConversationSummary) => void) {
  const { t } = useI18n()
  const message = useMessage()
  const dialog = useDialog()

  return function confirmDelete(c: AdminConversationSummary): void {
    const names = { title: c.title || t('chat.untitled'), owner: ownerName(c.owner) }
    dialog.error({
      title: t('admin.conversations.deleteTitle'),
      content: t('admin.conversations.deleteBody', names),
      positiveText: t('admin.conversations.delete'),
      negativeText: t('common.cancel'),
      positiveButtonProps: { type: 'error', ...{ 'data-testid': 'confirm-delete' } as object },
      onPositiveClick: async () => {
        try {
          await deleteConversation(c.id)
          message.success(t('admin.conversations.deleted', names))
          deleted(c)
        }
        catch (err) {
          message.error(errorMessage(err))
          return false
        }
      },
    })
  }
}
