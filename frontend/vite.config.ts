import { fileURLToPath } from 'node:url'
import VueI18n from '@intlify/unplugin-vue-i18n/vite'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import { compression, defineAlgorithm } from 'vite-plugin-compression2'

const backend = process.env.CWS_DEV_BACKEND ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [
    vue(),
    // The messages of src/locales/{en,zh-CN}/*.ts are compiled at build time, so production ships
    // vue-i18n's runtime-only build (no message compiler). Unit tests (vitest reads this file) keep
    // the message source as written: they check the texts themselves (src/locales/i18n.test.ts);
    // the browser tests run the compiled build.
    ...(process.env.VITEST
      ? []
      : [VueI18n({
          include: [fileURLToPath(new URL('./src/locales/{en,zh-CN}/*.ts', import.meta.url))],
          runtimeOnly: true,
          compositionOnly: true,
          fullInstall: true,
          strictMessage: true,
          dropMessageCompiler: true,
        })]),
    // Every text asset also as .br and .gz beside it, served as they are by @fastify/static
    // (`preCompressed`); small files are left alone (a compressed copy would not save a packet).
    compression({
      include: /\.(?:js|mjs|css|html|svg|json|txt|woff)$/,
      threshold: 1024,
      algorithms: [defineAlgorithm('brotliCompress'), defineAlgorithm('gzip', { level: 9 })],
      deleteOriginalAssets: false,
    }),
  ],
  server: {
    port: 5173,
    proxy: {
      '/api': { target: backend, changeOrigin: false },
    },
  },
  build: {
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
})
