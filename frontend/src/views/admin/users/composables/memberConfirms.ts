import type { AdminUser } from '@cws/backend/contracts'
import { useDialog, useMessage } from 'naive-ui'
import { useI18n } from 'vue-i18n'
import { deleteUser, logoutEverywhere } from '../../../../api/admin'
import { errorMessage } from '../../../../locales'

/**
 * The confirmations before ending a member's sessions everywhere or deleting them. Each reports the
 * outcome in a message; `done` hears of the ones that succeeded. A refused delete keeps its dialog open.
 */
export function useMemberConfirms(done: { loggedOut: (u: AdminUser) => void, deleted: (u: AdminUser) => void }) {
  const { t } = useI18n()
  const message = useMessage()
  const dialog = useDialog()

  function confirmLogout(u: AdminUser): void {
    dialog.warning({
      title: t('admin.users.logoutTitle'),
      content: t('admin.users.logoutBody', { username: u.username }),
      positiveText: t('admin.users.logoutEverywhere'),
      negativeText: t('common.cancel'),
      onPositiveClick: async () => {
        try {
          const r = await logoutEverywhere(u.id)
          message.success(t('admin.users.loggedOut', { n: r.revoked }, r.revoked))
          done.loggedOut(u)
        }
        catch (err) {
          message.error(errorMessage(err))
        }
      },
    })
  }

  function confirmDelete(u: AdminUser): void {
    dialog.error({
      title: t('admin.users.deleteTitle', { username: u.username }),
      content: t('admin.users.deleteBody', { username: u.username }),
      positiveText: t('admin.users.delete'),
      negativeText: t('common.cancel'),
      positiveButtonProps: { type: 'error', ...{ 'data-testid': 'confirm-delete' } as object },
      onPositiveClick: async () => {
        try {
          await deleteUser(u.id)
          message.success(t('admin.users.deleted', { username: u.username }))
          done.deleted(u)
        }
        catch (err) {
          message.error(errorMessage(err))
          return false
        }
      },
    })
  }

  return { confirmLogout, confirmDelete }
}
