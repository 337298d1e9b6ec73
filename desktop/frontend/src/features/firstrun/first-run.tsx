// First run: a returning user logs in to a relay, which restores their
// identity, name and communities; a new user chooses a display name, and
// nothing else is needed on a LAN. Logging in comes first, so that a
// returning user never has to invent a name.

import { useState, type ReactNode } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft } from "lucide-react";
import { data } from "@/api/client";
import { keys } from "@/api/queries";
import { useSession } from "@/app/session";
import { FieldLimitNote, useFieldLimit } from "@/components/limit-counter";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { ConnectRelay } from "@/features/relay/connect-relay";
import { SignIn } from "@/features/relay/sign-in";
import { useRelayStatus } from "@/features/relay/use-relay";
import { errorText } from "@/lib/errors";
import { isUnsupported } from "@/lib/relay";

type Step = "choose" | "login" | "name";

export function FirstRun() {
  const relay = useRelayStatus();
  const [step, setStep] = useState<Step>("choose");
  const noRelaySupport = relay.isError && isUnsupported(relay.error);
  // Logged in, yet still without a name: the account had no profile to restore.
  const loggedIn = !!relay.data?.account;
  const current: Step = noRelaySupport || loggedIn ? "name" : step;
  const back = () => setStep("choose");
  return (
    <main className="flex h-full items-center justify-center bg-sidebar p-4">
      <div data-testid="first-run" className="w-full max-w-sm space-y-4 rounded-lg border bg-card p-6 text-card-foreground shadow">
        <div className="space-y-1">
          <h1 className="text-xl font-semibold">Welcome to Ancore</h1>
          <p className="text-sm text-muted-foreground">Chat with no server in between.</p>
        </div>
        {current === "choose" && <Choose onLogin={() => setStep("login")} onNew={() => setStep("name")} />}
        {current === "login" && (
          <Back onBack={back}>{relay.data?.url ? <SignIn /> : <ConnectRelay />}</Back>
        )}
        {current === "name" &&
          (loggedIn || noRelaySupport ? (
            <NameForm hint={loggedIn ? "You are logged in, but your account has no display name yet. What should others call you?" : undefined} />
          ) : (
            <Back onBack={back}>
              <NameForm />
            </Back>
          ))}
      </div>
    </main>
  );
}

/** The two ways in, the returning user's first. */
function Choose({ onLogin, onNew }: { onLogin: () => void; onNew: () => void }) {
  return (
    <div className="grid gap-3">
      <div className="grid gap-1.5">
        <Button data-testid="first-run-login" onClick={onLogin}>
          Log in to a relay
        </Button>
        <p className="text-xs text-muted-foreground">Used Ancore before? Your account restores your name, your communities and their history.</p>
      </div>
      <div className="grid gap-1.5">
        <Button data-testid="first-run-new" variant="outline" onClick={onNew}>
          I am new here
        </Button>
        <p className="text-xs text-muted-foreground">Choose a display name; you can add a relay account later.</p>
      </div>
    </div>
  );
}

function Back({ onBack, children }: { onBack: () => void; children: ReactNode }) {
  return (
    <div className="grid gap-3 text-sm">
      <Button data-testid="first-run-back" variant="ghost" size="sm" className="justify-self-start" onClick={onBack}>
        <ArrowLeft aria-hidden /> Back
      </Button>
      {children}
    </div>
  );
}

function NameForm({ hint = "What should others call you?" }: { hint?: string }) {
  const { api } = useSession();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const limit = useFieldLimit(name.trim(), "name");
  const save = useMutation({
    mutationFn: () => data(api.PATCH("/me", { body: { name: name.trim() } })),
    onSuccess: (me) => qc.setQueryData(keys.me, me),
  });
  return (
    <form
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && !limit.refusal) save.mutate();
      }}
    >
      <p data-testid="name-hint" className="text-sm text-muted-foreground">
        {hint}
      </p>
      <div className="grid gap-1.5">
        <Label htmlFor="first-run-name">Display name</Label>
        <Input
          id="first-run-name"
          data-testid="name-input"
          autoFocus
          aria-invalid={!!limit.refusal}
          aria-describedby="first-run-name-limit"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <FieldLimitNote limit={limit} id="first-run-name-limit" />
      </div>
      {save.isError && (
        <p role="alert" className="text-sm text-destructive">
          {errorText(save.error)}
        </p>
      )}
      <Button data-testid="name-save" className="w-full" disabled={!name.trim() || !!limit.refusal || save.isPending}>
        Continue
      </Button>
    </form>
  );
}
