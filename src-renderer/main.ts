/**
 * Renderer entry: connect the Workbench client (Electron bridge or HTTP, decided here and
 * nowhere else), register the replay renderers, mount the app.
 */
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { connect } from './api/client';
import { setApi } from './api/use-api';
import { registerBuiltinReplayRenderers } from './components/replay/builtin';
import './styles/base.css';

setApi(connect());
registerBuiltinReplayRenderers();
createApp(App).use(createPinia()).mount('#app');
