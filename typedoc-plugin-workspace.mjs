// @ts-check
/**
 * TypeDoc's `validation.notExported` only checks the types of one package: the one whose
 * package.json is nearest to the entry points, here the private monorepo root. This plugin runs
 * the same check for every package listed in `packagesRequiringDocumentation`, so a public
 * signature that names a type no entry point exports fails `pnpm check:docs` in any package.
 *
 * Types that are deliberately private (type-level helpers) go in the plugin's own option
 * `workspaceIntentionallyNotExported`, as `path/of/file.ts:Name` (TypeDoc's own
 * `intentionallyNotExported` would report them as unused, since its check skips these packages).
 */
import {
  Application,
  ContainerReflection,
  DeclarationReflection,
  makeRecursiveVisitor,
  ParameterReflection,
  ParameterType,
  SignatureReflection,
  TypeParameterReflection,
} from 'typedoc';

/** @param {Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: 'workspaceIntentionallyNotExported',
    help: 'Types of workspace packages that public signatures may name without exporting (file.ts:Name).',
    type: ParameterType.Array,
    defaultValue: [],
  });
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (!app.options.getValue('validation').notExported) return;
    const packages = new Set(app.options.getValue('packagesRequiringDocumentation'));
    const intentional = /** @type {string[]} */ (app.options.getValue('workspaceIntentionallyNotExported'));
    const used = new Set();
    const warned = new Set();
    for (const { type, owner } of referenceTypes(project)) {
      // TypeDoc's own check has covered the root package (project.packageName).
      if (!type.package || !packages.has(type.package) || type.package === project.packageName) continue;
      if (type.reflection || type.externalUrl || type.isIntentionallyBroken()) continue;
      if (!type.symbolId || project.symbolIdHasBeenRemoved(type.symbolId)) continue;
      const file = `${type.symbolId.packageName}/${type.symbolId.packagePath}`;
      const allowed = intentional.find((entry) => {
        const at = entry.lastIndexOf(':');
        return entry.slice(at + 1) === type.qualifiedName && (at < 0 || file.endsWith(entry.slice(0, at)));
      });
      if (allowed !== undefined) {
        used.add(allowed);
        continue;
      }
      const key = type.symbolId.getStableKey();
      if (warned.has(key)) continue;
      warned.add(key);
      app.logger.validationWarning(
        `${type.qualifiedName}, defined in ${file}, is referenced by ${owner.getFriendlyFullName()} ` +
          'but not included in the documentation',
      );
    }
    const unused = intentional.filter((entry) => !used.has(entry));
    if (unused.length > 0) {
      app.logger.validationWarning(
        `workspaceIntentionallyNotExported names types no documented signature references:\n\t${unused.join('\n\t')}`,
      );
    }
  });
}

/**
 * Every reference type of the documented API with the reflection that holds it: the walk of
 * TypeDoc's own export validation (types, signatures, parameters, type parameters; not the
 * inheritance links).
 * @param {import('typedoc').ProjectReflection} project
 */
function referenceTypes(project) {
  /** @type {{ type: import('typedoc').ReferenceType, owner: import('typedoc').Reflection }[]} */
  const found = [];
  /** @type {import('typedoc').Reflection[]} */
  const queue = [project];
  /** @type {import('typedoc').Reflection} */
  let current = project;
  const visitor = makeRecursiveVisitor({
    reference(type) {
      found.push({ type, owner: current });
    },
    reflection(type) {
      queue.push(type.declaration);
    },
  });
  /** @param {import('typedoc').Reflection | import('typedoc').Reflection[] | undefined} item */
  const add = (item) => {
    if (Array.isArray(item)) queue.push(...item);
    else if (item) queue.push(item);
  };
  for (let next = queue.shift(); next; next = queue.shift()) {
    current = next;
    if (current instanceof ContainerReflection) add(current.children);
    if (current instanceof DeclarationReflection) {
      current.type?.visit(visitor);
      add(current.typeParameters);
      add(current.signatures);
      add(current.indexSignatures);
      add(current.getSignature);
      add(current.setSignature);
      current.overwrites?.visit(visitor);
      for (const type of current.implementedTypes ?? []) type.visit(visitor);
    }
    if (current instanceof SignatureReflection) {
      add(current.parameters);
      add(current.typeParameters);
      current.type?.visit(visitor);
      current.overwrites?.visit(visitor);
    }
    if (current instanceof ParameterReflection) current.type?.visit(visitor);
    if (current instanceof TypeParameterReflection) {
      current.type?.visit(visitor);
      current.default?.visit(visitor);
    }
  }
  return found;
}
