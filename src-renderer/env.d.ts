/// <reference types="vite/client" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** What the Electron preload exposes with contextBridge (absent in a browser). */
interface CairnBridge {
  call(method: string, args: unknown[]): Promise<unknown>;
  onEvent(fn: (event: unknown) => void): (() => void) | void;
}

interface Window {
  cairn?: CairnBridge;
}
