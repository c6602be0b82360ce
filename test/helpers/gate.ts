/** A gate the test keeps shut and opens when it chooses: what a call the test holds waits for. */
export interface Gate {
  /** Resolves once `open` is called. */
  readonly opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
