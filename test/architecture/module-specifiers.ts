import ts from 'typescript';

// What a file pulls in, read by the TypeScript parser rather than a regex, so no spelling of an import slips past the
// layout rules: static, type-only and side-effect imports, `export … from`, `import x = require()`, `require()`,
// `import()` and `import('…')` types. A specifier that is not a string literal (`import(name)`) is reported as
// DYNAMIC_SPECIFIER: the rules cannot see where it leads, so they refuse it.
export const DYNAMIC_SPECIFIER = '<computed>';

// Every module specifier in one TypeScript source text, in the order they appear.
export function moduleSpecifiers(fileName: string, sourceText: string): string[] {
  const source = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const literal = (node: ts.Node | undefined) => (node && ts.isStringLiteralLike(node) ? node.text : DYNAMIC_SPECIFIER);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier) found.push(literal(node.moduleSpecifier));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      found.push(literal(node.moduleReference.expression));
    } else if (ts.isCallExpression(node) && isImportOrRequire(node.expression)) {
      found.push(literal(node.arguments[0]));
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      found.push(literal(node.argument.literal));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function isImportOrRequire(callee: ts.Expression): boolean {
  return callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require');
}

// The package a bare specifier names, without the `node:` prefix or a subpath: 'node:child_process' and
// 'child_process' are both 'child_process'; 'execa/foo' is 'execa'; '@scope/pkg/x' is '@scope/pkg'.
export function packageOf(specifier: string): string {
  const bare = specifier.replace(/^node:/, '');
  const parts = bare.split('/');
  return bare.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
