import { createApp } from 'vue'
import App from './App.vue'
import { setupI18n } from './locales'
import { setupStore } from './plugins/store'
import { setupViewport } from './plugins/viewport'
import { setupRouter } from './router'
import './styles/global.css'

async function bootstrap(): Promise<void> {
  const app = createApp(App)
  setupStore(app)
  setupI18n(app)
  const router = setupRouter(app)
  await router.isReady()
  app.mount('#app')
  setupViewport()
}

void bootstrap()
