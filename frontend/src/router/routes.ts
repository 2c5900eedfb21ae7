import type { RouteRecordRaw } from 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session (login, 404). */
    public?: boolean
    /** Only for admins; members get the 403 view. */
    requiresAdmin?: boolean
    /** i18n key of the document title. */
    title?: string
  }
}

/** Every page is lazy-loaded, so the first load only carries the shell. */
export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('../views/login/LoginView.vue'),
    meta: { public: true, title: 'login.pageTitle' },
  },
  {
    path: '/',
    component: () => import('../layouts/MainLayout.vue'),
    children: [
      {
        path: '',
        name: 'chat',
        component: () => import('../views/chat/ChatView.vue'),
        meta: { title: 'chat.pageTitle' },
      },
      {
        path: 'c/:id',
        name: 'conversation',
        component: () => import('../views/chat/ChatView.vue'),
        meta: { title: 'chat.pageTitle' },
      },
      {
        path: 'admin',
        component: () => import('../views/admin/AdminView.vue'),
        meta: { requiresAdmin: true, title: 'admin.pageTitle' },
        children: [
          { path: '', name: 'admin', component: () => import('../views/admin/overview/OverviewView.vue'), meta: { title: 'admin.tabs.overview' } },
          { path: 'users', name: 'admin-users', component: () => import('../views/admin/users/UsersView.vue'), meta: { title: 'admin.tabs.users' } },
          { path: 'conversations', name: 'admin-conversations', component: () => import('../views/admin/conversations/ConversationsView.vue'), meta: { title: 'admin.tabs.conversations' } },
          { path: 'asks', name: 'admin-asks', component: () => import('../views/admin/asks/AsksView.vue'), meta: { title: 'admin.tabs.asks' } },
          { path: 'logs', name: 'admin-logs', component: () => import('../views/admin/logs/LogsView.vue'), meta: { title: 'admin.tabs.logs' } },
          { path: 'upstreams', name: 'admin-upstreams', component: () => import('../views/admin/upstreams/UpstreamsView.vue'), meta: { title: 'admin.tabs.upstreams' } },
        ],
      },
      {
        path: '403',
        name: 'forbidden',
        component: () => import('../views/error/ForbiddenView.vue'),
        meta: { title: 'errorPage.forbiddenTitle' },
      },
    ],
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('../views/error/NotFoundView.vue'),
    meta: { public: true, title: 'errorPage.notFoundTitle' },
  },
]
