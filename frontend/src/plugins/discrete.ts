import type { ConfigProviderProps, DialogApi, MessageApi, NotificationApi } from 'naive-ui'
import { createDiscreteApi } from 'naive-ui'
import { computed } from 'vue'
import { useAppStore } from '../stores/app'

interface Discrete { message: MessageApi, dialog: DialogApi, notification: NotificationApi }
let api: Discrete | null = null

/** Messages and dialogs for code outside components (stores, router hooks), themed like the app. */
export function useDiscrete(): Discrete {
  if (!api) {
    const app = useAppStore()
    const configProviderProps = computed<ConfigProviderProps>(() => ({
      theme: app.naiveTheme,
      themeOverrides: app.themeOverrides,
      locale: app.naiveLocale,
      dateLocale: app.naiveDateLocale,
    }))
    const { message, dialog, notification } = createDiscreteApi(['message', 'dialog', 'notification'], { configProviderProps })
    api = { message, dialog, notification }
  }
  return api
}
