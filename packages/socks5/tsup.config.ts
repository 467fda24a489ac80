import { libraryConfig } from "../../tsup.base.js";

export default libraryConfig(new URL("./package.json", import.meta.url));
