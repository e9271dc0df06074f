// Small typed event emitter. A throwing handler is logged and does not stop
// the other handlers or the SDK.

type AnyHandler = (payload: never) => void;

export class Emitter<M extends object> {
  private readonly handlers = new Map<keyof M, Set<AnyHandler>>();

  on<K extends keyof M>(event: K, handler: (payload: M[K]) => void): void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as AnyHandler);
  }

  off<K extends keyof M>(event: K, handler?: (payload: M[K]) => void): void {
    if (!handler) {
      this.handlers.delete(event);
      return;
    }
    const set = this.handlers.get(event);
    if (!set) return;
    set.delete(handler as AnyHandler);
    // A handler registered with once() is stored wrapped; find it by its original.
    for (const h of set) {
      if ((h as { original?: unknown }).original === handler) set.delete(h);
    }
  }

  once<K extends keyof M>(event: K, handler: (payload: M[K]) => void): void {
    const wrapper = (payload: M[K]): void => {
      this.off(event, wrapper);
      handler(payload);
    };
    (wrapper as { original?: unknown }).original = handler;
    this.on(event, wrapper);
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const h of [...set]) {
      try {
        (h as (p: M[K]) => void)(payload);
      } catch (err) {
        console.error(`[aegis] '${String(event)}' handler threw:`, err);
      }
    }
  }
}
