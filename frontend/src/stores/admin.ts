import type { AdminMeta } from '@cws/backend/contracts'
import { defineStore } from 'pinia'
import { ref } from 'vue'
import * as adminApi from '../api/admin'

/** What the admin pages share: the configured models and the server's time zone (loaded once). */
export const useAdminStore = defineStore('admin', () => {
  const meta = ref<AdminMeta | null>(null)
  const metaError = ref<unknown>(null)
  let pending: Promise<AdminMeta | null> | null = null

  function loadMeta(force = false): Promise<AdminMeta | null> {
    if (meta.value && !force)
      return Promise.resolve(meta.value)
    pending ??= adminApi.getAdminMeta()
      .then((m) => {
        meta.value = m
        metaError.value = null
        return m
      })
      .catch((err) => {
        metaError.value = err
        return null
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  function modelName(key: string): string {
    return meta.value?.models.find(m => m.key === key)?.name ?? key
  }

  return { meta, metaError, loadMeta, modelName }
})
