"""``cyclebench fetch openreview|arxiv|abstracts``: every raw source, resumable, paced, with a fetch manifest.

    cyclebench fetch openreview --venue ICLR.cc/2023/Conference --out raw.jsonl --pdfs pdfs/ [--include-withdrawn]
    cyclebench fetch arxiv --metadata papers.jsonl --out latex/
    cyclebench fetch abstracts --bib latex/ --out cited.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

NEEDS = {"openreview": ("venue",), "arxiv": ("metadata",), "abstracts": ("bib",)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=sorted(NEEDS))
    parser.add_argument("--out", type=Path, required=True,
                        help="openreview: snapshot (.jsonl); arxiv: folder of <paperId>.tar.gz; abstracts: .jsonl")
    parser.add_argument("--venue", help="openreview: venue id, e.g. ICLR.cc/2024/Conference")
    parser.add_argument("--api", type=int, choices=[1, 2], default=None, help="openreview: API version (default: by venue/year)")
    parser.add_argument("--invitation", default=None, help="openreview: submission invitation (default: by API version)")
    parser.add_argument("--pdfs", type=Path, default=None, help="openreview: also fetch each submission's PDF into this folder")
    parser.add_argument("--include-withdrawn", action="store_true",
                        help="openreview, API v1: also the Withdrawn_Submission and Desk_Rejected_Submission invitations")
    parser.add_argument("--overwrite", action="store_true", help="openreview: replace --out if it exists")
    parser.add_argument("--metadata", type=Path, help="arxiv: papers JSONL (paperId, title, authors, optional arxiv)")
    parser.add_argument("--bib", type=Path, help="abstracts: a .bib/.bbl file, an e-print, or a folder of them")
    parser.add_argument("--base-url", default=None,
                        help="the service's base URL (openreview API; arxiv API query URL; Semantic Scholar graph URL)")
    parser.add_argument("--eprint-url", default=None, help="arxiv: e-print base URL")
    parser.add_argument("--openalex-url", default=None, help="abstracts: OpenAlex base URL")
    parser.add_argument("--interval", type=float, default=None,
                        help="seconds between requests (default: the service's policy: arXiv 3, OpenReview PDFs 1, "
                             "Semantic Scholar 1 with a key / 3 without)")
    parser.add_argument("--backoff", type=float, default=None,
                        help="seconds before the first retry of a failed request, doubled each time (default: per service)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per request (default: per service)")
    parser.add_argument("--manifest", type=Path, default=None, help="fetch manifest (default: beside --out/--pdfs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    for name in NEEDS[args.source]:
        if getattr(args, name) is None:
            raise ValueError(f"fetch {args.source} needs --{name.replace('_', '-')}")
    for name in ("interval", "backoff", "timeout"):
        value = getattr(args, name)
        if value is not None and not (0 if name != "timeout" else 0.01) <= value <= 3600:
            raise ValueError(f"--{name} must be a number of seconds from 0 to 3600")
    _check_outputs_are_not_inputs(args)
    return {"openreview": _openreview, "arxiv": _arxiv, "abstracts": _abstracts}[args.source](args)


def _check_outputs_are_not_inputs(args: argparse.Namespace) -> None:
    """Refuse, before any request, an output (``--out``, ``--manifest``, ``--pdfs``) that is an input
    (``--metadata``, ``--bib``) or another output: each is rewritten whole, so the input would be lost."""
    from cyclebench.sources.http_fetch import manifest_path_for

    listing = args.pdfs if args.source == "openreview" and args.pdfs is not None else args.out
    outputs = {"--out": args.out, "--manifest": args.manifest or manifest_path_for(listing)}
    if args.source == "openreview" and args.pdfs is not None:
        outputs["--pdfs"] = args.pdfs
    inputs = {"--metadata": args.metadata, "--bib": args.bib} if args.source != "openreview" else {}
    named = [(k, Path(v).resolve()) for k, v in outputs.items()]
    for i, (name, path) in enumerate(named):
        for other, other_path in named[i + 1:]:
            if path == other_path:
                raise ValueError(f"{name} and {other} are the same path {path}; give each its own")
        for flag, value in inputs.items():
            if value is not None and path == Path(value).resolve():
                raise ValueError(f"{name} {path} is the input {flag}; writing it would replace that input")


def _policy(default, args):  # type: ignore[no-untyped-def]
    """The service's policy with ``--interval``/``--backoff`` applied."""
    import dataclasses

    if args.interval is not None:
        default = dataclasses.replace(default, min_interval=args.interval)
    if args.backoff is not None:
        default = dataclasses.replace(default, backoff=args.backoff)
    if args.timeout is not None:
        default = dataclasses.replace(default, timeout=args.timeout)
    return default


def _report(what: str, counts: dict, manifest: Path) -> None:
    reasons = ", ".join(f"{k} {v}" for k, v in counts["failed_reasons"].items())
    print(f"{what}: {counts['inputs']} in, {counts['fetched']} fetched, {counts['skipped']} skipped, "
          f"{counts['failed']} failed" + (f" ({reasons})" if reasons else "") + f"; manifest {manifest}")


def _openreview(args: argparse.Namespace) -> int:
    from cyclebench.sources.fetch import (
        api_version_for,
        attachment_request,
        check_snapshot_target,
        fetch_notes,
        open_client,
        write_snapshot,
    )
    from cyclebench.sources.fetch_pdfs import (
        OPENREVIEW_PDF_POLICY,
        fetch_submission_pdfs,
    )
    from cyclebench.sources.http_fetch import manifest_path_for

    version = args.api or api_version_for(args.venue)
    reuse = args.pdfs is not None and args.out.is_file() and not args.overwrite
    client = None
    if reuse:  # a rerun to finish the PDFs: the snapshot written before is their list
        print(f"reusing the snapshot {args.out} (pass --overwrite to fetch the notes again)")
    else:
        check_snapshot_target(args.out, overwrite=args.overwrite)
        client = open_client(version, baseurl=args.base_url, timeout=args.timeout or 120.0)
        notes = fetch_notes(args.venue, version, invitation=args.invitation, client=client,
                            include_withdrawn=args.include_withdrawn)
        count = write_snapshot(notes, args.out)
        print(f"wrote {count} submissions to {args.out}")
    if args.pdfs is None:
        return 0
    client = client or open_client(version, baseurl=args.base_url, timeout=args.timeout or 120.0)
    manifest = args.manifest or manifest_path_for(args.pdfs)
    counts = fetch_submission_pdfs(
        _snapshot_notes(args.out), lambda note_id: attachment_request(client, note_id), args.pdfs,
        manifest, policy=_policy(OPENREVIEW_PDF_POLICY, args), progress=not args.no_progress)
    _report("PDFs", counts, manifest)
    return 0


def _snapshot_notes(path: Path) -> Iterator[dict]:
    """The snapshot's notes; a line that is not a JSON object comes through as ``{}`` (failed ``invalid_id``)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                try:
                    note = json.loads(line)
                except ValueError:
                    note = {}
                yield note if isinstance(note, dict) else {}


def _arxiv(args: argparse.Namespace) -> int:
    from cyclebench.sources.fetch_arxiv import (
        ARXIV_API_URL,
        ARXIV_EPRINT_URL,
        ARXIV_POLICY,
        fetch_eprints,
    )
    from cyclebench.sources.http_fetch import manifest_path_for

    if not args.metadata.is_file():
        raise FileNotFoundError(f"--metadata {args.metadata} not found")
    manifest = args.manifest or manifest_path_for(args.out)
    counts = fetch_eprints(args.metadata, args.out, manifest, policy=_policy(ARXIV_POLICY, args),
                           api_url=args.base_url or ARXIV_API_URL, eprint_url=args.eprint_url or ARXIV_EPRINT_URL,
                           progress=not args.no_progress)
    _report("arXiv e-prints", counts, manifest)
    return 0


def cited_works(bib: Path) -> Iterator:
    """Every entry of the ``.bib``/``.bbl`` files under ``bib`` (a file, an e-print ``.tar.gz``, or a folder of
    either), read with the Research-14K parser, as ``CitedWork`` records named ``file#key``."""
    from cyclebench.builders.bibtex import (
        entry_arxiv,
        entry_doi,
        parse_bbl,
        parse_bibtex,
    )
    from cyclebench.sources.fetch_abstracts import CitedWork

    if not bib.exists():
        raise FileNotFoundError(f"--bib {bib} not found")
    files = [bib] if bib.is_file() else sorted(p for p in bib.rglob("*") if p.is_file())
    for path in files:
        for name, text in _bib_texts(path):
            parsed = parse_bbl(text) if name.endswith(".bbl") else parse_bibtex({name: text})
            for key, entry in parsed.entries.items():
                yield CitedWork(entry_doi(entry), entry_arxiv(entry), entry.get("title"), f"{name}#{key}",
                                has_abstract=bool((entry.get("abstract") or "").strip()))


def _bib_texts(path: Path) -> Iterator[tuple[str, str]]:
    name = path.name.lower()
    if name.endswith((".bib", ".bbl")):
        yield str(path), path.read_text(encoding="utf-8", errors="replace")
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        try:
            with tarfile.open(path) as archive:
                for member in archive.getmembers():
                    if member.isfile() and member.name.lower().endswith((".bib", ".bbl")) and member.size < 20_000_000:
                        data = archive.extractfile(member)
                        if data is not None:
                            yield f"{path}:{member.name}", data.read().decode("utf-8", "replace")
        except (tarfile.TarError, OSError, EOFError):
            return  # a gzip'd single .tex or a damaged e-print holds no bibliography file


def _abstracts(args: argparse.Namespace) -> int:
    import dataclasses

    from cyclebench.sources.fetch_abstracts import AbstractServices, fetch_abstracts
    from cyclebench.sources.http_fetch import manifest_path_for

    services = AbstractServices()
    if args.base_url:
        services = dataclasses.replace(services, s2_url=args.base_url)
    if args.openalex_url:
        services = dataclasses.replace(services, openalex_url=args.openalex_url)
    if args.interval is not None or args.backoff is not None or args.timeout is not None:
        from cyclebench.sources.fetch_abstracts import (
            OPENALEX_POLICY,
            S2_POLICY_ANON,
            S2_POLICY_KEYED,
        )

        s2 = S2_POLICY_KEYED if os.environ.get("SEMANTIC_SCHOLAR_API_KEY") else S2_POLICY_ANON
        services = dataclasses.replace(services, s2_policy=_policy(s2, args),
                                       openalex_policy=_policy(OPENALEX_POLICY, args))
    manifest = args.manifest or manifest_path_for(args.out)
    counts = fetch_abstracts(list(cited_works(args.bib)), args.out, manifest, services=services,
                             progress=not args.no_progress)
    _report("cited abstracts", counts, manifest)
    print(f"{counts['rows']} abstracts in {args.out}")
    return 0
