// What is left after logging out with wipe: the node deleted its data and exited.

import { ShieldOff } from "lucide-react";

export function Wiped() {
  return (
    <main data-testid="wiped" className="flex h-full items-center justify-center bg-background p-8 text-center text-foreground">
      <div className="max-w-sm">
        <ShieldOff aria-hidden className="mx-auto mb-4 h-10 w-10 text-muted-foreground" />
        <h1 className="mb-2 text-xl font-semibold">This device was wiped</h1>
        <p className="text-muted-foreground">
          Its identity, messages and keys are deleted and Ancore has stopped. Start it again to begin afresh, and log in to your relay to restore
          your identity.
        </p>
      </div>
    </main>
  );
}
