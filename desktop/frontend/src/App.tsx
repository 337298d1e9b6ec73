// The app: everything starts at Root (token, client, event stream).
export { Root as App } from "./app/root";
