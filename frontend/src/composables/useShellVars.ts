import { useThemeVars } from 'naive-ui'
import { computed } from 'vue'
import { useAppStore } from '../stores/app'

/**
 * CSS variables for the shell, derived from naive-ui's theme so light and dark follow it.
 * Bind the result with `:style` on a root element; children use `var(--cws-*)`.
 */
export function useShellVars() {
  const vars = useThemeVars()
  const app = useAppStore()
  return computed(() => ({
    '--cws-body-bg': vars.value.bodyColor,
    '--cws-sider-bg': app.isDark ? '#101113' : '#f7f7f8',
    '--cws-card-bg': vars.value.cardColor,
    '--cws-border': vars.value.dividerColor,
    '--cws-border-strong': vars.value.borderColor,
    '--cws-hover': vars.value.hoverColor,
    '--cws-pressed': vars.value.pressedColor,
    '--cws-text-1': vars.value.textColor1,
    '--cws-text-2': vars.value.textColor2,
    '--cws-text-3': vars.value.textColor3,
    '--cws-primary': vars.value.primaryColor,
    '--cws-primary-soft': app.isDark ? 'rgba(25, 195, 154, 0.14)' : 'rgba(16, 163, 127, 0.10)',
    '--cws-radius': vars.value.borderRadius,
    '--cws-font': vars.value.fontFamily,
  }))
}
