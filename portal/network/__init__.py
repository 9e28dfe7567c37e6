"""Network administration pages: institutes, accounts, organizations, and a landing page listing the tools."""
