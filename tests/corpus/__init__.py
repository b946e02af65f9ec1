"""A small real corpus for retrieval tests and the benchmark: four licence texts, copied verbatim
(each licence allows verbatim copies), and the project's own README. Each question names the
document and a phrase of the passage that answers it; a retrieved passage answers when it comes
from that document and contains the phrase."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
README = HERE.parent.parent / "README.md"
TEXTS = ("apache-2.0.txt", "mpl-2.0.txt", "cc0-1.0.txt", "gpl-3.txt")


def corpus() -> dict[str, bytes]:
    files = {name: (HERE / name).read_bytes() for name in TEXTS}
    files["README.md"] = README.read_bytes()
    return files


@dataclass(frozen=True)
class Question:
    question: str
    filename: str
    phrase: str  # in the answering passage ("a|b": either answers)
    paraphrase: bool = False  # shares (almost) no word with its answer

    def answered_by(self, passage: dict) -> bool:
        """From the right document, and holding the phrase (in its text, or in the heading of the
        section it belongs to)."""
        text = " ".join([*passage.get("heading_path", []), " ".join(passage["text"].split())])
        return passage.get("filename") == self.filename and any(" ".join(p.split()) in text for p in self.phrase.split("|"))


QUESTIONS = [
    Question("Does a contributor to an Apache licensed work grant me a patent license?", "apache-2.0.txt",
             "Grant of Patent License"),
    Question("Under the Apache License, what happens to my patent license if I start patent litigation?",
             "apache-2.0.txt", "institute patent litigation"),
    Question("Must I keep the NOTICE file when I redistribute an Apache licensed work?", "apache-2.0.txt", "NOTICE"),
    Question("Which courts hear litigation about the Mozilla Public License?", "mpl-2.0.txt", "principal place of business"),
    Question("What does Covered Software mean in the MPL?", "mpl-2.0.txt", "Source Code Form to which the initial Contributor"),
    Question("Which rights count as Copyright and Related Rights under CC0?", "cc0-1.0.txt", "database rights"),
    Question("What happens if part of the CC0 waiver is judged invalid?", "cc0-1.0.txt", "Public License Fallback"),
    Question("Can I charge a fee for conveying copies of a GPL program?", "gpl-3.txt",
             "charge any price|charge for them if you wish"),
    Question("What installation information must come with a user product under the GPL?", "gpl-3.txt",
             "Installation Information"),
    Question("How do I start the whole docjobs system locally?", "README.md", "make run"),
    Question("How are docjobs webhook messages signed?", "README.md", "webhook-signature"),
    Question("Can I use the licensor's trademarks under the Apache License?", "apache-2.0.txt", "Trademarks"),
    Question("May I offer support or warranty for a fee when I redistribute an Apache licensed work?", "apache-2.0.txt",
             "choose to offer, and charge a fee for|Accepting Warranty or Additional Liability"),
    Question("Can I distribute MPL covered software in executable form?", "mpl-2.0.txt", "Distribution of Executable Form"),
    Question("What is a Larger Work in the Mozilla Public License?", "mpl-2.0.txt", "Larger Work"),
    Question("Who may publish new versions of the Mozilla Public License?", "mpl-2.0.txt", "New Versions"),
    Question("What is the source code of a work under the GPL?", "gpl-3.txt", "preferred form of the work"),
    Question("Is the output of running a GPL program covered by the license?", "gpl-3.txt", "output from running"),
    Question("How do I apply the GPL to my new programs?", "gpl-3.txt", "How to Apply These Terms"),
    Question("Can GPL code be combined with a work under the GNU Affero GPL?", "gpl-3.txt", "Use with the GNU Affero"),
    Question("Are trademark or patent rights waived by CC0?", "cc0-1.0.txt", "No trademark or patent rights"),
    Question("What happens when a docjobs webhook endpoint answers 410?", "README.md", "410 Gone"),
    Question("How large may a docjobs source file be?", "README.md", "100 MB"),
    Question("How do I deploy docjobs to AWS?", "README.md", "sam deploy"),
    Question("Am I allowed to sell copies of GPL software?", "gpl-3.txt", "charge any price|charge for them if you wish",
             paraphrase=True),
    Question("Do I lose my GPL rights forever after one violation?", "gpl-3.txt", "reinstated", paraphrase=True),
    Question("Giving up all copyright so that anyone may reuse a work", "cc0-1.0.txt", "Waiver", paraphrase=True),
    Question("Can I put the Apache licensor's logo on my product?", "apache-2.0.txt", "Trademarks", paraphrase=True),
    Question("If I break the Mozilla license by accident and fix it quickly, do I get my rights back?", "mpl-2.0.txt",
             "reinstated", paraphrase=True),
    Question("Where do I find the Apache license's exact wording rules for my own notice?", "apache-2.0.txt",
             "APPENDIX: How to apply the Apache License", paraphrase=True),
]
